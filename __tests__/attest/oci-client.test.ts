import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { pushChart, startFakeRegistry, type FakeRegistry } from '../../__fixtures__/oci-registry.js'
import {
  OCI_INDEX,
  OCI_MANIFEST,
  ReferrersClient,
  nextLink,
  parseChallenge,
  shown,
  tokenRealm
} from '../../src/attest/oci-client.js'
import { isDigest } from '../../src/model.js'

const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json'

describe('parseChallenge', () => {
  it.each([
    ['Basic realm="fake"', { scheme: 'basic', realm: 'fake' }],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull"',
      {
        scheme: 'bearer',
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:a/b:pull'
      }
    ],
    [
      'bearer realm=https://ghcr.io/token, service=ghcr.io',
      { scheme: 'bearer', realm: 'https://ghcr.io/token', service: 'ghcr.io' }
    ]
  ])('%s', (header, challenge) => {
    expect(parseChallenge(header)).toMatchObject(challenge)
  })
  it('refuses other schemes, quoting them on one line', () => {
    expect(() => parseChallenge('Negotiate\nx')).toThrow(/^unknown auth challenge Negotiate$/)
  })
})

describe('nextLink, isDigest, shown', () => {
  it('follows rel="next" relative to the page', () => {
    expect(
      nextLink('</v2/a/referrers/x?n=2&last=y>; rel="next"', 'http://r:5000/v2/a/referrers/x')
    ).toBe('http://r:5000/v2/a/referrers/x?n=2&last=y')
    expect(nextLink(undefined, 'http://r')).toBeUndefined()
    expect(nextLink('<http://r/x>; rel="prev"', 'http://r')).toBeUndefined()
  })
  it.each([
    [`sha256:${'a'.repeat(64)}`, true],
    [`sha256:${'A'.repeat(64)}`, false],
    [`sha256:${'a'.repeat(64)}\n::error::x`, false],
    [`sha512:${'a'.repeat(128)}`, false],
    [42, false]
  ])('isDigest(%j) = %s', (value, ok) => {
    expect(isDigest(value)).toBe(ok)
  })
  it('collapses outside text to one short line', () => {
    expect(shown('a\n::error::b\r\n c')).toBe('a ::error::b c')
    expect(shown('x'.repeat(300))).toHaveLength(100)
  })
})

describe.each([
  ['the referrers API, Basic', { referrers: true, bearer: false }],
  ['the referrers API, Bearer token, two per page', { referrers: true, bearer: true, pageSize: 2 }],
  ['the tag schema, Bearer token', { referrers: false, bearer: true }]
])('ReferrersClient through %s', (_label, options) => {
  let registry: FakeRegistry
  afterEach(() => registry.stop())

  it('pushes referrers of a digest and lists every one of them again', async () => {
    registry = await startFakeRegistry(options)
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const client = new ReferrersClient(`${registry.host}/charts/app`, registry)
    expect(await client.referrers(digest)).toEqual([])
    const pushed = []
    for (const n of [1, 2, 3, 4, 5]) {
      const bundle = Buffer.from(JSON.stringify({ mediaType: BUNDLE_TYPE, n }))
      pushed.push(await client.attach(digest, bundle, BUNDLE_TYPE, { n: String(n) }))
    }
    const listed = await client.referrers(digest)
    expect(listed.map(d => d.digest).sort()).toEqual(pushed.map(d => d.digest).sort())
    expect(listed.every(d => d.artifactType === BUNDLE_TYPE)).toBe(true)
    const manifest = JSON.parse((await client.manifest(pushed[0].digest)).toString())
    expect(manifest.subject.digest).toBe(digest)
    expect(JSON.parse((await client.blob(manifest.layers[0].digest)).toString())).toEqual({
      mediaType: BUNDLE_TYPE,
      n: 1
    })
    const tagPuts = registry.requests.filter(
      r => r.method === 'PUT' && r.path.endsWith(digest.replace(':', '-'))
    )
    expect(tagPuts).toHaveLength(options.referrers ? 0 : 5)
    if (options.bearer) {
      // One token per client, not per request.
      expect(registry.requests.filter(r => r.path === '/token')).toHaveLength(1)
    }
  })

  it('refuses wrong credentials with the HTTP status', async () => {
    registry = await startFakeRegistry(options)
    const digest = pushChart(registry, 'charts/x', '1.0.0')
    const client = new ReferrersClient(`${registry.host}/charts/x`, {
      username: registry.username,
      password: 'wrong'
    })
    await expect(client.attach(digest, Buffer.from('{}'), BUNDLE_TYPE, {})).rejects.toThrow(
      /HTTP 401/
    )
  })
})

describe('ReferrersClient and hostile registries', () => {
  let registry: FakeRegistry
  afterEach(() => registry.stop())

  it('drops listed digests that are not sha256:<64 hex> and refuses manifests that do not match their digest', async () => {
    registry = await startFakeRegistry({ referrers: false })
    const digest = pushChart(registry, 'charts/h', '1.0.0')
    const real = `sha256:${'e'.repeat(64)}`
    registry.putManifest(
      'charts/h',
      digest.replace(':', '-'),
      {
        schemaVersion: 2,
        manifests: [
          { digest: `${real}\n::error::pwned`, artifactType: BUNDLE_TYPE },
          { digest: real, artifactType: BUNDLE_TYPE }
        ]
      },
      'application/vnd.oci.image.index.v1+json'
    )
    const client = new ReferrersClient(`${registry.host}/charts/h`, registry)
    expect((await client.referrers(digest)).map(d => d.digest)).toEqual([real])
    // A manifest stored under another digest's name is refused.
    registry.manifests.set(`charts/h@${real}`, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      body: Buffer.from('{}')
    })
    await expect(client.manifest(real)).rejects.toThrow(/content does not match/)
    await expect(client.manifest('latest')).rejects.toThrow(/^not a sha256 digest: latest$/)
  })
})

/** A registry of one handler on loopback, recording each request's Authorization header. */
async function hostile(
  handle: (req: http.IncomingMessage, res: http.ServerResponse) => void
): Promise<{ host: string; seen: { url: string; authorization?: string }[]; stop: () => void }> {
  const seen: { url: string; authorization?: string }[] = []
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization })
    handle(req, res)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { host: `127.0.0.1:${port}`, seen, stop: () => server.close() }
}

describe('ReferrersClient and credentials', () => {
  const credentials = { username: 'AWS', password: 'secret-password' }
  const subject = `sha256:${'a'.repeat(64)}`
  const stops: (() => void)[] = []
  afterEach(() => stops.splice(0).forEach(stop => stop()))

  it('sends no credentials to a next page on another host', async () => {
    const other = await hostile((_req, res) => res.writeHead(404).end())
    const registry = await hostile((req, res) => {
      if (!req.headers.authorization)
        return res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end()
      if (req.url?.includes('/referrers/')) {
        return res
          .writeHead(200, {
            'content-type': OCI_INDEX,
            link: `<http://${other.host}/v2/charts/x/referrers/${subject}?last=1>; rel="next"`
          })
          .end(JSON.stringify({ schemaVersion: 2, manifests: [] }))
      }
      res.writeHead(404).end()
    })
    stops.push(other.stop, registry.stop)
    const client = new ReferrersClient(`${registry.host}/charts/x`, credentials)
    await client.referrers(subject).catch(() => undefined)
    expect(other.seen.filter(r => r.authorization)).toEqual([])
  })

  it('sends no credentials to an upload location on another host', async () => {
    const other = await hostile((_req, res) => res.writeHead(201).end())
    const registry = await hostile((req, res) => {
      if (!req.headers.authorization)
        return res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end()
      if (req.method === 'HEAD' && req.url?.includes('/manifests/'))
        return res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': '2' }).end()
      if (req.method === 'POST')
        return res.writeHead(202, { location: `http://${other.host}/upload/1` }).end()
      res.writeHead(404).end()
    })
    stops.push(other.stop, registry.stop)
    const client = new ReferrersClient(`${registry.host}/charts/x`, credentials)
    await client.attach(subject, Buffer.from('{}'), BUNDLE_TYPE, {}).catch(() => undefined)
    expect(other.seen.length).toBeGreaterThan(0)
    expect(other.seen.filter(r => r.authorization)).toEqual([])
  })

  it('refuses a body bigger than any manifest or bundle, without reading it all', async () => {
    const digest = `sha256:${'b'.repeat(64)}`
    const registry = await hostile((req, res) => {
      if (!req.headers.authorization)
        return res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end()
      res.writeHead(200, { 'content-type': OCI_MANIFEST })
      const chunk = Buffer.alloc(1024 * 1024, 0x20)
      let sent = 0
      const more = (): void => {
        while (sent < 64 && res.write(chunk)) sent++
        if (sent >= 64) res.end()
        else res.once('drain', more)
      }
      res.on('close', () => (sent = 64))
      more()
    })
    stops.push(registry.stop)
    const client = new ReferrersClient(`${registry.host}/charts/x`, credentials)
    await expect(client.blob(digest)).rejects.toThrow(/larger than 4 MiB/)
    await expect(client.manifest(digest)).rejects.toThrow(/larger than 4 MiB/)
    await expect(client.referrers(subject)).rejects.toThrow(/larger than 4 MiB/)
  })
})

describe('tokenRealm', () => {
  it.each([
    ['https://auth.example/token', 'https://registry.example/v2/a', 'https://auth.example/token'],
    ['http://127.0.0.1:5000/token', 'http://127.0.0.1:5000/v2/a', 'http://127.0.0.1:5000/token']
  ])('takes %s for %s', (realm, base, url) => {
    expect(tokenRealm(realm, base).href).toBe(url)
  })
  it.each([
    ['http://auth.example/token', 'https://registry.example/v2/a', /not over HTTPS/],
    ['file:///etc/passwd', 'https://registry.example/v2/a', /not over HTTPS/],
    ['/token', 'https://registry.example/v2/a', /not a URL/]
  ])('refuses %s for %s', (realm, base, message) => {
    expect(() => tokenRealm(realm, base)).toThrow(message)
  })
})
