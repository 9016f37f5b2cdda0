/**
 * Issue 10: a GovCloud runner whose only way out is an HTTP CONNECT proxy. The production names
 * (get.helm.sh, api.ecr.us-gov-west-1.amazonaws.com, the registry, STS) map to 127.0.0.2 in a
 * private /etc/hosts, where nothing listens, so every direct connection is refused; the proxy
 * maps the same names to the local stack (ECR emulator, registry gate, Helm mirror, fake STS).
 * The bundled action must get everything through the proxy: the Helm download, the ECR API (and
 * STS for web identity), and Helm's login and push.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startConnectProxy, type ConnectProxy } from '../../testbed/connect-proxy.js'
import { TEST_CREDENTIALS } from '../../testbed/ecr-emulator.js'
import { HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { canMapHosts, withHosts } from '../../testbed/hosts.js'
import { freePort } from '../../testbed/net-util.js'
import { makeTempDir } from '../../testbed/paths.js'
import { errorLines, runAction, type RunActionResult } from '../../testbed/runner.js'
import { manifestPuts, pullChart, workspaceWith } from '../../testbed/scenario.js'
import { startStack, type Stack } from '../../testbed/stack.js'
import { startFakeSts, type FakeSts } from '../../testbed/sts.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'

const REGION = 'us-gov-west-1'
const REGISTRY = `123456789012.dkr.ecr.${REGION}.amazonaws.com`
const API = `api.ecr.${REGION}.amazonaws.com`
const STS = [`sts.${REGION}.amazonaws.com`, 'sts.amazonaws.com']
const DOWNLOAD = 'get.helm.sh'
const PINNED_MIRROR = 'helm-mirror.test'
const PROXY_USER = 'ci-runner'
const PROXY_PASSWORD = 'proxy-Pa55word'

const portOf = (url: string): number => Number(new URL(url).port)

let stack: Stack
let sts: FakeSts
let proxy: ConnectProxy
let wrap: ReturnType<typeof withHosts>
let workspace: string
let tokenFile: string

beforeAll(async () => {
  stack = await startStack({ region: REGION, registryName: REGISTRY })
  sts = await startFakeSts({ certs: stack.certs, credentials: TEST_CREDENTIALS })
  proxy = await startConnectProxy({
    routes: {
      [API]: portOf(stack.ecr.apiTlsUrl),
      [REGISTRY]: Number(stack.ecr.registryHost.split(':')[1]),
      [DOWNLOAD]: portOf(stack.mirror.url),
      [PINNED_MIRROR]: portOf(stack.mirror.httpUrl),
      ...Object.fromEntries(STS.map(name => [name, sts.port]))
    }
  })
  // Every name the action could use points where nothing listens: only the proxy gets through.
  wrap = withHosts(
    Object.fromEntries([API, REGISTRY, DOWNLOAD, PINNED_MIRROR, ...STS].map(n => [n, '127.0.0.2']))
  )
  workspace = await workspaceWith([{ name: 'proxied', version: '1.0.0' }])
  tokenFile = path.join(await makeTempDir('web-identity'), 'token')
  await writeFile(tokenFile, 'eyJ.fake-web-identity-token.sig')
  await stack.ecr.reset()
})
afterAll(async () => {
  await proxy?.stop()
  await sts?.stop()
  await stack?.stop()
})

/** What a runner behind the proxy has: no endpoint overrides, the proxy and its CA. */
function runnerEnv(extra: Record<string, string>): Record<string, string> {
  const proxyUrl = proxy.url.replace('//', `//${PROXY_USER}:${PROXY_PASSWORD}@`)
  return {
    AWS_REGION: REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: stack.actionEnv.AWS_CONFIG_FILE,
    AWS_SHARED_CREDENTIALS_FILE: stack.actionEnv.AWS_SHARED_CREDENTIALS_FILE,
    HTTPS_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    NO_PROXY: 'localhost,127.0.0.1',
    SSL_CERT_FILE: stack.certs.caFile, // Helm trusts the (inspecting) proxy's CA
    ...extra
  }
}

function expectNoProxySecret(result: RunActionResult): void {
  // ::add-mask:: lines are how the secret reaches the runner's masker; the runner never shows them.
  const text = `${result.stdout}\n${result.stderr}\n${result.post?.stdout ?? ''}`
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
  expect(text).not.toContain(PROXY_PASSWORD)
  expect(text).not.toContain(Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64'))
}

const pullBack = (helmVersion: string, ref: string) =>
  pullChart(stack, helmVersion, ref.replace(REGISTRY, stack.ecr.registryHost))

describe.runIf(canMapHosts())('behind an HTTP CONNECT proxy only', () => {
  it.each([HELM_VERSIONS.v3_18, HELM_VERSIONS.v3_9])(
    'Helm %s: default registry, static keys, Helm from https://get.helm.sh, all through the proxy',
    async helmVersion => {
      const mark = proxy.requests.length
      const result = await runAction({
        workspace,
        toolCache: await makeTempDir('tc-proxy'),
        env: runnerEnv({
          AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
          NODE_EXTRA_CA_CERTS: stack.certs.caFile // the runner's Node trusts the proxy's CA
        }),
        inputs: {
          charts: 'charts/proxied',
          namespace: `h${helmVersion.replace(/\./g, '')}`,
          'create-repository': 'true',
          'helm-version': helmVersion
        },
        wrapCommand: wrap
      })
      expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
      expect(result.exitCode).toBe(0)
      expect(result.outputs.registry).toBe(REGISTRY)
      const seen = new Set(proxy.requests.slice(mark).map(r => r.replace(/:\d+$/, '')))
      expect([...seen].sort()).toEqual([API, DOWNLOAD, REGISTRY].sort())
      expect(new Set(proxy.credentials)).toEqual(new Set([`${PROXY_USER}:${PROXY_PASSWORD}`]))
      expectNoProxySecret(result)
      const pulled = await pullBack(helmVersion, result.outputs.ref)
      expect(pulled.chartYaml).toContain('name: proxied')
    }
  )

  it(`Helm ${HELM_VERSIONS.v4}: GovCloud registry, web identity through STS, AWS_CA_BUNDLE, a pinned http:// mirror`, async () => {
    const mark = proxy.requests.length
    const before = sts.tokens.length
    const result = await runAction({
      workspace,
      toolCache: await makeTempDir('tc-proxy'),
      env: runnerEnv({
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ROLE_ARN: 'arn:aws-us-gov:iam::123456789012:role/helm-publisher',
        AWS_ROLE_SESSION_NAME: 'e2e',
        // Only the SDK trusts the proxy's CA, and only through AWS_CA_BUNDLE.
        AWS_CA_BUNDLE: stack.certs.caFile
      }),
      inputs: {
        charts: 'charts/proxied',
        registry: REGISTRY,
        namespace: 'h414',
        'create-repository': 'true',
        'helm-version': HELM_VERSIONS.v4,
        'helm-download-url': `http://${PINNED_MIRROR}`,
        'helm-sha256': stack.mirror.archives[HELM_VERSIONS.v4].sha256
      },
      wrapCommand: wrap
    })
    expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
    expect(result.stdout).toContain('pinned by helm-sha256')
    const seen = new Set(proxy.requests.slice(mark).map(r => r.replace(/:\d+$/, '')))
    const stsHost = STS.find(name => seen.has(name))
    expect(stsHost, [...seen].join(', ')).toBeDefined()
    expect([...seen].sort()).toEqual([API, PINNED_MIRROR, REGISTRY, stsHost].sort())
    expect(sts.tokens.slice(before)).toEqual(['eyJ.fake-web-identity-token.sig'])
    expectNoProxySecret(result)
    const pulled = await pullBack(HELM_VERSIONS.v4, result.outputs.ref)
    expect(pulled.chartYaml).toContain('name: proxied')
  })

  it('without the proxy nothing gets out (the network really refuses direct connections)', async () => {
    const puts = manifestPuts(stack)
    const result = await runAction({
      workspace,
      toolCache: await prewarmedToolCache([HELM_VERSIONS.v4]),
      env: {
        ...runnerEnv({
          AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey
        }),
        HTTPS_PROXY: '',
        http_proxy: ''
      },
      inputs: { charts: 'charts/proxied', registry: REGISTRY, 'helm-version': HELM_VERSIONS.v4 },
      wrapCommand: wrap
    })
    expect(result.exitCode).toBe(1)
    expect(errorLines(result.stdout)).toEqual([
      expect.stringMatching(
        /^Could not reach the ECR API for ecr:GetAuthorizationToken in us-gov-west-1 \(.*ECONNREFUSED.*\)/
      )
    ])
    expect(manifestPuts(stack)).toEqual(puts)
  })

  it('a proxy that refuses the connection gets one line naming the proxy and the host, no credentials', async () => {
    const closed = await freePort() // nothing listens there
    const result = await runAction({
      workspace,
      toolCache: await prewarmedToolCache([HELM_VERSIONS.v4]),
      env: runnerEnv({
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        HTTPS_PROXY: `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${closed}`
      }),
      inputs: { charts: 'charts/proxied', registry: REGISTRY, 'helm-version': HELM_VERSIONS.v4 },
      wrapCommand: wrap
    })
    expect(result.exitCode).toBe(1)
    const errors = errorLines(result.stdout)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      new RegExp(
        `^ecr:GetAuthorizationToken in us-gov-west-1: The proxy http://127\\.0\\.0\\.1:${closed} refused the connection to ${API.replace(/\./g, '\\.')}:443 \\(.*ECONNREFUSED.*\\): check HTTPS_PROXY/HTTP_PROXY`
      )
    )
    expectNoProxySecret(result)
  })

  it("a proxy that lets the ECR API through but refuses the registry: Helm's login gets the same line", async () => {
    const strict = await startConnectProxy({ routes: { [API]: portOf(stack.ecr.apiTlsUrl) } })
    try {
      const result = await runAction({
        workspace,
        toolCache: await prewarmedToolCache([HELM_VERSIONS.v4]),
        env: runnerEnv({
          AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
          NODE_EXTRA_CA_CERTS: stack.certs.caFile,
          HTTPS_PROXY: strict.url.replace('//', `//${PROXY_USER}:${PROXY_PASSWORD}@`)
        }),
        inputs: { charts: 'charts/proxied', registry: REGISTRY, 'helm-version': HELM_VERSIONS.v4 },
        wrapCommand: wrap
      })
      expect(result.exitCode).toBe(1)
      const errors = errorLines(result.stdout)
      expect(errors, result.stdout).toHaveLength(1)
      expect(errors[0]).toMatch(
        new RegExp(
          `^The proxy ${strict.url.replace(/\./g, '\\.')} refused the connection to ${REGISTRY.replace(/\./g, '\\.')} \\(.*Forbidden.*\\): check HTTPS_PROXY/HTTP_PROXY`
        )
      )
      expect(strict.hosts()).toEqual([API, REGISTRY].sort())
      expectNoProxySecret(result)
    } finally {
      await strict.stop()
    }
  })

  it('Helm without the inspecting proxy\'s CA: one line naming "ca-file" and SSL_CERT_FILE', async () => {
    const env = runnerEnv({
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_CA_BUNDLE: stack.certs.caFile
    })
    delete env.SSL_CERT_FILE
    const result = await runAction({
      workspace,
      toolCache: await prewarmedToolCache([HELM_VERSIONS.v4]),
      env,
      inputs: { charts: 'charts/proxied', registry: REGISTRY, 'helm-version': HELM_VERSIONS.v4 },
      wrapCommand: wrap
    })
    expect(result.exitCode).toBe(1)
    expect(errorLines(result.stdout)).toEqual([
      expect.stringMatching(
        /^Registry \S+ presented a TLS certificate Helm does not trust \(.*x509.*\): behind a TLS-inspecting proxy, give Helm the proxy's CA with "ca-file" or SSL_CERT_FILE/
      )
    ])
  })
})
