/**
 * An in-memory OCI distribution registry for unit tests: Basic auth, monolithic blob uploads,
 * manifests by tag and digest, and (unless `referrers: false`) the OCI 1.1 referrers API with
 * the OCI-Subject header, as ECR has. Without it, /referrers/ answers 404 like distribution 2.8.
 */
import { createHash, randomUUID } from 'node:crypto'
import http from 'node:http'
import type net from 'node:net'

export interface FakeRegistry {
  /** 127.0.0.1:PORT (the referrers client talks plain HTTP to 127.0.0.1). */
  host: string
  username: string
  password: string
  /** Method and path of every request, in order. */
  requests: { method: string; path: string; status: number }[]
  manifests: Map<string, { mediaType: string; body: Buffer }>
  /** tag -> digest */
  tags: Map<string, string>
  /** Stores a manifest (as a push would) and returns its digest. */
  putManifest(repo: string, tag: string, body: object, mediaType?: string): string
  stop(): Promise<void>
}

const digestOf = (data: Buffer): string =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`

export async function startFakeRegistry(
  opts: {
    referrers?: boolean
    /** Answer with a Bearer challenge whose realm (/token here) trades Basic for a token. */
    bearer?: boolean
    /** Referrers per page of the referrers API (Link: rel="next" to the rest). */
    pageSize?: number
  } = {}
): Promise<FakeRegistry> {
  const referrersApi = opts.referrers ?? true
  const token = `tok-${randomUUID()}`
  const username = 'AWS'
  const password = `pw-${randomUUID()}`
  const blobs = new Map<string, Buffer>()
  const manifests = new Map<string, { mediaType: string; body: Buffer }>()
  const tags = new Map<string, string>()
  const requests: FakeRegistry['requests'] = []
  const key = (repo: string, ref: string): string => `${repo}@${ref}`

  const putManifest = (repo: string, ref: string, body: Buffer, mediaType: string): string => {
    const digest = digestOf(body)
    manifests.set(key(repo, digest), { mediaType, body })
    if (!ref.startsWith('sha256:')) tags.set(key(repo, ref), digest)
    return digest
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x')
      const method = req.method ?? 'GET'
      const send = (
        status: number,
        headers: Record<string, string> = {},
        body?: Buffer | string
      ) => {
        requests.push({ method, path: url.pathname, status })
        res.writeHead(status, headers)
        res.end(method === 'HEAD' ? undefined : body)
      }
      const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
      if (opts.bearer && url.pathname === '/token') {
        return req.headers.authorization === basic
          ? send(200, { 'content-type': 'application/json' }, JSON.stringify({ token }))
          : send(401)
      }
      if (req.headers.authorization !== (opts.bearer ? `Bearer ${token}` : basic)) {
        const challenge = opts.bearer
          ? `Bearer realm="http://${req.headers.host}/token",service="fake"`
          : 'Basic realm="fake"'
        return send(401, { 'www-authenticate': challenge })
      }
      const m = /^\/v2\/(.+)\/(blobs\/uploads|blobs|manifests|referrers)\/(.*)$/.exec(url.pathname)
      if (!m) return send(404)
      const [, repo, kind, ref] = m
      const body = Buffer.concat(chunks)
      if (kind === 'blobs/uploads') {
        if (method === 'POST')
          return send(202, { location: `/v2/${repo}/blobs/uploads/${randomUUID()}` })
        if (method === 'PUT') {
          const digest = url.searchParams.get('digest') ?? ''
          if (digestOf(body) !== digest) return send(400)
          blobs.set(digest, body)
          return send(201, { 'docker-content-digest': digest })
        }
        return send(405)
      }
      if (kind === 'blobs') {
        const blob = blobs.get(ref)
        return blob ? send(200, { 'content-length': String(blob.length) }, blob) : send(404)
      }
      if (kind === 'referrers') {
        if (!referrersApi) return send(404)
        const found = [...manifests.entries()]
          .filter(([k]) => k.startsWith(`${repo}@`))
          .map(([, v]) => ({ v, doc: JSON.parse(v.body.toString()) as Record<string, unknown> }))
          .filter(({ doc }) => (doc.subject as { digest?: string } | undefined)?.digest === ref)
          .map(({ v, doc }) => ({
            mediaType: v.mediaType,
            digest: digestOf(v.body),
            size: v.body.length,
            artifactType: doc.artifactType,
            annotations: doc.annotations
          }))
        const size = opts.pageSize ?? found.length
        const from = Number(url.searchParams.get('page') ?? 0)
        const index = JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: found.slice(from, from + size)
        })
        const headers: Record<string, string> = {
          'content-type': 'application/vnd.oci.image.index.v1+json'
        }
        if (from + size < found.length) {
          headers.link = `<${url.pathname}?page=${from + size}>; rel="next"`
        }
        return send(200, headers, index)
      }
      // manifests
      if (method === 'PUT') {
        const mediaType = req.headers['content-type'] ?? ''
        const digest = putManifest(repo, ref, body, mediaType)
        const subject = (JSON.parse(body.toString()) as { subject?: { digest: string } }).subject
        const headers: Record<string, string> = { 'docker-content-digest': digest }
        if (subject && referrersApi) headers['oci-subject'] = subject.digest
        return send(201, headers)
      }
      const digest = ref.startsWith('sha256:') ? ref : tags.get(key(repo, ref))
      const manifest = digest ? manifests.get(key(repo, digest)) : undefined
      if (!digest || !manifest) return send(404)
      return send(
        200,
        {
          'content-type': manifest.mediaType,
          'docker-content-digest': digest,
          'content-length': String(manifest.body.length)
        },
        manifest.body
      )
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    host: `127.0.0.1:${port}`,
    username,
    password,
    requests,
    manifests,
    tags,
    putManifest: (repo, tag, body, mediaType = 'application/vnd.oci.image.manifest.v1+json') =>
      putManifest(repo, tag, Buffer.from(JSON.stringify(body)), mediaType),
    stop: () =>
      new Promise(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** A chart manifest in `repo` under `tag`, as helm push leaves it; returns its digest. */
export function pushChart(registry: FakeRegistry, repo: string, tag: string): string {
  return registry.putManifest(repo, tag, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.cncf.helm.config.v1+json',
      digest: `sha256:${'c'.repeat(64)}`,
      size: 2
    },
    layers: []
  })
}
