import http from 'node:http'
import type net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeRegistry, type FakeRegistry } from '../../__fixtures__/oci-registry.js'
import { manifestDigest, parseBearerChallenge } from '../../src/registry/manifest-digest.js'

const plain = { plainHttp: true, insecureSkipTlsVerify: false }
let registry: FakeRegistry
let digest: string

beforeAll(async () => {
  registry = await startFakeRegistry()
  digest = registry.putManifest('charts/demo', '1.0.0', { schemaVersion: 2, layers: [] })
})
afterAll(async () => {
  await registry.stop()
})

/** A server answering each request with the next of `answers`, recording what it was asked. */
async function scripted(
  answers: ((
    req: http.IncomingMessage,
    port: number
  ) => [number, Record<string, string>, string?])[]
) {
  const seen: { method: string; url: string; authorization?: string }[] = []
  const server = http.createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization
    })
    const port = (server.address() as net.AddressInfo).port
    const [status, headers, body] = (answers.shift() ?? (() => [500, {}]))(req, port)
    res.writeHead(status, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    host: `127.0.0.1:${port}`,
    seen,
    stop: () => new Promise<void>(resolve => server.close(() => resolve()))
  }
}

describe('manifestDigest', () => {
  const lookup = (tag: string, password = registry.password) => ({
    host: registry.host,
    repository: 'charts/demo',
    tag,
    credentials: { username: registry.username, password },
    tls: plain
  })

  it('refuses wrong credentials in one line naming the inputs', async () => {
    await expect(manifestDigest(lookup('1.0.0', 'wrong'))).rejects.toThrow(
      /^Registry 127\.0\.0\.1:\d+ refused to show charts\/demo:1\.0\.0 \(HTTP 401\): check "username"\/"password"/
    )
  })

  it('refuses a malformed digest header (registry text is data)', async () => {
    const fake = await scripted([() => [200, { 'docker-content-digest': 'sha256:zz ::error::x' }]])
    try {
      await expect(
        manifestDigest({ host: fake.host, repository: 'r', tag: 't', tls: plain })
      ).rejects.toThrow(/malformed digest/)
    } finally {
      await fake.stop()
    }
  })

  it('finds a tag with one HEAD request and its Docker-Content-Digest', async () => {
    const before = registry.requests.length
    expect(await manifestDigest(lookup('1.0.0'))).toBe(digest)
    expect(registry.requests.slice(before)).toEqual([
      { method: 'HEAD', path: '/v2/charts/demo/manifests/1.0.0', status: 200 }
    ])
  })

  it('answers undefined for a missing tag or repository', async () => {
    expect(await manifestDigest(lookup('9.9.9'))).toBeUndefined()
    expect(await manifestDigest({ ...lookup('1.0.0'), repository: 'charts/none' })).toBeUndefined()
  })

  it('answers a Bearer challenge with one token request (GHCR, Docker Hub, Harbor)', async () => {
    const good = `sha256:${'c'.repeat(64)}`
    const fake = await scripted([
      (_req, port) => [
        401,
        {
          'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="reg",scope="repository:charts/demo:pull"`
        }
      ],
      () => [200, { 'content-type': 'application/json' }, JSON.stringify({ token: 'tok' })],
      req => [
        req.headers.authorization === 'Bearer tok' ? 200 : 401,
        { 'docker-content-digest': good }
      ]
    ])
    try {
      const found = await manifestDigest({
        host: fake.host,
        repository: 'charts/demo',
        tag: '1.0.0',
        credentials: { username: 'u', password: 'p' },
        tls: plain
      })
      expect(found).toBe(good)
      const basic = `Basic ${Buffer.from('u:p').toString('base64')}`
      expect(fake.seen).toEqual([
        { method: 'HEAD', url: '/v2/charts/demo/manifests/1.0.0', authorization: basic },
        {
          method: 'GET',
          url: '/token?service=reg&scope=repository%3Acharts%2Fdemo%3Apull',
          authorization: basic
        },
        { method: 'HEAD', url: '/v2/charts/demo/manifests/1.0.0', authorization: 'Bearer tok' }
      ])
    } finally {
      await fake.stop()
    }
  })

  it('without the digest header, hashes the manifest itself (one GET)', async () => {
    const body = '{"schemaVersion":2}'
    const fake = await scripted([() => [200, {}], () => [200, {}, body]])
    try {
      const { createHash } = await import('node:crypto')
      expect(await manifestDigest({ host: fake.host, repository: 'r', tag: 't', tls: plain })).toBe(
        `sha256:${createHash('sha256').update(body).digest('hex')}`
      )
    } finally {
      await fake.stop()
    }
  })
})

describe('parseBearerChallenge', () => {
  it.each([
    ['Basic realm="x"', undefined],
    ['Bearer service="x"', undefined],
    [
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/c:pull"',
      { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/c:pull' }
    ]
  ])('%s', (header, expected) => {
    expect(parseBearerChallenge(header)).toEqual(expected)
  })
})
