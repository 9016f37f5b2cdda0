import * as fs from 'node:fs'
import type * as http from 'node:http'
import * as https from 'node:https'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, test, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'
import { rejection } from '../../__fixtures__/rejection.js'
import { makeHostCert, makeTestCerts } from '../../testbed/certs.js'
import { startConnectProxy, type ConnectProxy } from '../../testbed/connect-proxy.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { describeTunnelFailure, proxyFor, proxyLabel, unifyProxyEnvironment, configuredProxy } =
  await import('../../src/runtime/proxy.js')
const { privateEcr } = await import('../../src/registry/ecr.js')
const { awsRequestHandler, trustedCas } = await import('../../src/registry/aws-transport.js')
const { UserError } = await import('../../src/errors.js')

const VARS = [
  'https_proxy',
  'HTTPS_PROXY',
  'http_proxy',
  'HTTP_PROXY',
  'no_proxy',
  'NO_PROXY',
  'AWS_CA_BUNDLE',
  'AWS_ENDPOINT_URL_ECR',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_EC2_METADATA_DISABLED'
]
const saved: Record<string, string | undefined> = {}
beforeEach(() => {
  core.resetCore()
  for (const name of VARS) {
    saved[name] = process.env[name]
    delete process.env[name]
  }
})
afterEach(() => {
  for (const name of VARS) {
    if (saved[name] === undefined) delete process.env[name]
    else process.env[name] = saved[name]
  }
})

describe('unifyProxyEnvironment: Helm (Go) and the action read the same values', () => {
  it('gives both spellings the lower-case value, the one @actions/http-client reads first', () => {
    const env: NodeJS.ProcessEnv = {
      HTTPS_PROXY: 'http://upper:3128',
      https_proxy: 'http://lower:3128',
      NO_PROXY: '.internal',
      http_proxy: 'http://plain:3128'
    }
    unifyProxyEnvironment(env)
    expect(env).toEqual({
      HTTPS_PROXY: 'http://lower:3128',
      https_proxy: 'http://lower:3128',
      HTTP_PROXY: 'http://plain:3128',
      http_proxy: 'http://plain:3128',
      NO_PROXY: '.internal',
      no_proxy: '.internal'
    })
  })

  it('adds http:// to a proxy without a scheme, as Go does (http-client would ignore it)', () => {
    const env: NodeJS.ProcessEnv = { HTTPS_PROXY: 'proxy.corp:3128' }
    unifyProxyEnvironment(env)
    expect(env.https_proxy).toBe('http://proxy.corp:3128')
    expect(env.HTTPS_PROXY).toBe('http://proxy.corp:3128')
    expect(configuredProxy('https:', env)?.host).toBe('proxy.corp:3128')
  })

  it('masks proxy credentials once each, as written, decoded and as a Basic credential', () => {
    const env: NodeJS.ProcessEnv = {
      HTTPS_PROXY: 'http://ci:p%40ss@proxy.corp:3128',
      HTTP_PROXY: 'http://ci:p%40ss@proxy.corp:3128'
    }
    unifyProxyEnvironment(env)
    const masked = core.setSecret.mock.calls.map(([s]) => s)
    expect(masked).toEqual(['p%40ss', 'p@ss', Buffer.from('ci:p@ss').toString('base64')])
  })

  it('refuses a SOCKS proxy in one line naming the variable, credentials masked first', () => {
    expect(() => unifyProxyEnvironment({ https_proxy: 'socks5://u:pw@proxy.corp:1080' })).toThrow(
      new UserError(
        'HTTPS_PROXY is a socks5:// proxy, which the Helm download and the AWS SDK cannot use: set it to an HTTP proxy such as http://proxy.example.com:3128.'
      )
    )
    expect(core.setSecret).toHaveBeenCalledWith('pw')
  })

  it('masks a token given as the user name', () => {
    unifyProxyEnvironment({ HTTPS_PROXY: 'http://tok3n-abc@proxy.corp:3128' })
    expect(core.setSecret).toHaveBeenCalledWith('tok3n-abc')
  })
})

describe('one NO_PROXY rule set (@actions/http-client)', () => {
  test.each([
    ['https://api.ecr.us-gov-west-1.amazonaws.com', '', true],
    ['https://api.ecr.us-gov-west-1.amazonaws.com', 'amazonaws.com', false],
    ['https://api.ecr.us-gov-west-1.amazonaws.com', '.amazonaws.com', false],
    [
      'https://api.ecr.us-gov-west-1.amazonaws.com',
      'api.ecr.us-gov-west-1.amazonaws.com:443',
      false
    ],
    ['https://api.ecr.us-gov-west-1.amazonaws.com', 'ecr.aws', true],
    ['https://get.helm.sh', '*', false],
    ['https://127.0.0.1:5000', '', false],
    ['https://localhost:5000', '', false]
  ])('%s with NO_PROXY=%j is proxied: %s', (url, noProxy, proxied) => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128'
    if (noProxy) process.env.NO_PROXY = noProxy
    unifyProxyEnvironment()
    expect(proxyFor(url) !== undefined).toBe(proxied)
  })
})

it('proxyLabel never shows credentials', () => {
  expect(proxyLabel(new URL('http://user:secret@proxy.corp:3128/'))).toBe('http://proxy.corp:3128')
})

it('describeTunnelFailure names the proxy and the host from a tunnel error', () => {
  process.env.https_proxy = 'http://u:pw@proxy.corp:3128'
  expect(
    describeTunnelFailure(
      'https://get.helm.sh/helm-v4.1.4-linux-amd64.tar.gz',
      new Error('tunneling socket could not be established, statusCode=403')
    )
  ).toBe(
    'The proxy http://proxy.corp:3128 refused the connection to get.helm.sh (HTTP 403): check HTTPS_PROXY/HTTP_PROXY, that the proxy allows get.helm.sh, and NO_PROXY for hosts to reach directly.'
  )
  expect(describeTunnelFailure('https://get.helm.sh/x', new Error('socket hang up'))).toBe(
    undefined
  )
})

describe('the AWS SDK transport (src/registry/aws-transport.ts)', () => {
  const TOKEN = Buffer.from('AWS:ecr-password').toString('base64')
  let api: http.Server
  let apiPort: number
  let apiCalls = 0
  let proxy: ConnectProxy
  let tmp: string
  let caFile: string

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxy-test-'))
    // A fake ECR API answering GetAuthorizationToken over TLS (as the real one does), under a
    // name only the proxy resolves; AWS_CA_BUNDLE trusts its CA.
    const certs = await makeTestCerts(path.join(tmp, 'certs'))
    caFile = certs.caFile
    const host = await makeHostCert(certs, ['ecr-api.test', 'not-allowed.test'])
    const tlsOptions = { cert: fs.readFileSync(host.certFile), key: fs.readFileSync(host.keyFile) }
    api = https.createServer(tlsOptions, (req, res) => {
      apiCalls++
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
        res.end(
          JSON.stringify({
            authorizationData: [
              {
                authorizationToken: TOKEN,
                expiresAt: Date.now() / 1000 + 3600,
                proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-2.amazonaws.com'
              }
            ]
          })
        )
      })
    })
    await new Promise<void>(resolve => api.listen(0, '127.0.0.1', resolve))
    apiPort = (api.address() as AddressInfo).port
    proxy = await startConnectProxy({ routes: { 'ecr-api.test': apiPort } })
  })
  afterAll(async () => {
    await proxy.stop()
    await new Promise(resolve => api.close(resolve))
    fs.rmSync(tmp, { recursive: true, force: true })
  })
  const useProxy = (url: string, endpointHost: string) => {
    process.env.https_proxy = url
    process.env.AWS_CA_BUNDLE = caFile
    process.env.AWS_ENDPOINT_URL_ECR = `https://${endpointHost}:${apiPort}`
    unifyProxyEnvironment()
  }
  beforeEach(() => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDUNITTEST'
    process.env.AWS_SECRET_ACCESS_KEY = 'unit-test-secret'
    process.env.AWS_EC2_METADATA_DISABLED = 'true'
  })

  it('is the SDK default (undefined) without proxy variables or AWS_CA_BUNDLE', async () => {
    expect(await awsRequestHandler()).toBeUndefined()
  })

  it('tunnels the ECR API through the proxy by name (CONNECT, with proxy credentials)', async () => {
    useProxy(proxy.url.replace('//', '//ci:pw@'), 'ecr-api.test')
    const before = proxy.requests.length
    const login = await (await privateEcr('eu-west-2')).login()
    expect(login.password).toBe('ecr-password')
    expect(proxy.requests.slice(before)).toEqual([`ecr-api.test:${apiPort}`])
    expect(proxy.credentials.at(-1)).toBe('ci:pw')
  })

  it('connects directly to hosts NO_PROXY (or loopback) names', async () => {
    useProxy(proxy.url, '127.0.0.1')
    const [before, calls] = [proxy.requests.length, apiCalls]
    await (await privateEcr('eu-west-2')).login()
    expect(proxy.requests.length).toBe(before)
    expect(apiCalls).toBe(calls + 1)
  })

  it('a proxy that refuses CONNECT gives one line naming the proxy and the host, without credentials', async () => {
    useProxy(proxy.url.replace('//', '//ci:hunter2@'), 'not-allowed.test')
    const error = await rejection((await privateEcr('eu-west-2')).login())
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `ecr:GetAuthorizationToken in eu-west-2: The proxy ${proxy.url} refused the connection to not-allowed.test:${apiPort} (CONNECT answered HTTP 403): check HTTPS_PROXY/HTTP_PROXY, that the proxy allows not-allowed.test:${apiPort}, and NO_PROXY for hosts to reach directly.`
    )
  })

  it('AWS_CA_BUNDLE is added to the default roots', async () => {
    const bundle = path.join(tmp, 'ca.pem')
    fs.writeFileSync(bundle, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
    process.env.AWS_CA_BUNDLE = bundle
    const cas = trustedCas() ?? []
    expect(cas.at(-1)).toContain('MIIB')
    expect(cas.length).toBeGreaterThan(100)
    expect(await awsRequestHandler()).toBeDefined()
  })

  test.each([
    ['a missing file', (dir: string) => path.join(dir, 'nope.pem'), /cannot be read/],
    [
      'a file without a certificate',
      (dir: string) => {
        fs.writeFileSync(path.join(dir, 'empty.pem'), 'hello\n')
        return path.join(dir, 'empty.pem')
      },
      /holds no PEM certificate/
    ]
  ])('AWS_CA_BUNDLE naming %s is one line naming the variable', (_, file, message) => {
    process.env.AWS_CA_BUNDLE = file(tmp)
    expect(() => trustedCas()).toThrow(UserError)
    expect(() => trustedCas()).toThrow(message)
    expect(() => trustedCas()).toThrow(/^AWS_CA_BUNDLE/)
  })
})
