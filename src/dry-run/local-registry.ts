import { createHash, randomUUID } from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { errorMessage, oneLine } from '../errors.js'

/*
 * A minimal, in-memory OCI distribution registry on 127.0.0.1 (plain HTTP, no auth). The dry run
 * pushes each chart here to learn the exact manifest digest the real registry would get, whatever
 * the Helm version; CI scripts also start it on macOS/Windows runners. No dependencies, nothing on
 * disk, nothing reachable from outside the machine.
 *
 * Implements what Helm 3.8+ and 4 (ORAS v1 and v2) use: /v2/, blob HEAD/GET, uploads
 * (POST, PATCH, PUT; monolithic POST ?digest=), manifest HEAD/GET/PUT by tag or digest, tags list.
 */

export interface LocalRegistry {
  /** `127.0.0.1:PORT`, for `oci://HOST/...` with `--plain-http` (Helm 3.13+; 3.8–3.12 use HTTP to loopback by themselves). */
  host: string
  stop(): Promise<void>
}

interface Manifest {
  body: Buffer
  mediaType: string
}

interface Repository {
  manifests: Map<string, Manifest>
  tags: Map<string, string>
}

const NAME = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*'
const ROUTE = new RegExp(`^/v2/(${NAME})/(blobs/uploads|blobs|manifests|tags)(?:/([^/]*))?$`)
const DIGEST = /^sha256:[a-f0-9]{64}$/
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/
const DEFAULT_MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json'

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

/**
 * The largest request body taken (a blob upload, or one chunk of it): Helm itself refuses a chart
 * that decompresses to more than 100 MiB, so a bigger compressed upload is never a chart.
 */
export const MAX_BODY_BYTES = 100 * 1024 * 1024

class BodyTooLarge extends Error {}

/** The request body, refused (413) once it passes `limit` bytes, whatever Content-Length says. */
function readBody(req: http.IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new BodyTooLarge(`request body over ${limit} bytes`)
    if (Number(req.headers['content-length'] ?? 0) > limit) return reject(tooLarge())
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.resume() // drain without keeping it
        reject(tooLarge())
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function send(
  res: http.ServerResponse,
  status: number,
  headers: Record<string, string | number> = {},
  body?: Buffer | string
): void {
  const data = body === undefined ? undefined : Buffer.from(body)
  res.writeHead(status, {
    'Docker-Distribution-API-Version': 'registry/2.0',
    'Content-Length': data?.length ?? 0,
    ...headers
  })
  res.end(data)
}

function fail(res: http.ServerResponse, status: number, code: string, message: string): void {
  send(
    res,
    status,
    { 'Content-Type': 'application/json' },
    JSON.stringify({ errors: [{ code, message: oneLine(message) }] })
  )
}

/** The registry's request handler over in-memory state (exported for unit tests). */
export function registryHandler(limits: { bodyBytes?: number } = {}): http.RequestListener {
  const blobs = new Map<string, Buffer>()
  const repositories = new Map<string, Repository>()
  const uploads = new Map<string, { repo: string; chunks: Buffer[] }>()
  const repository = (name: string): Repository => {
    let repo = repositories.get(name)
    if (!repo) {
      repo = { manifests: new Map(), tags: new Map() }
      repositories.set(name, repo)
    }
    return repo
  }

  const finishUpload = (
    res: http.ServerResponse,
    repo: string,
    data: Buffer,
    expected: string | null
  ): void => {
    if (!expected || !DIGEST.test(expected)) {
      fail(res, 400, 'DIGEST_INVALID', 'digest parameter missing or not sha256')
      return
    }
    if (sha256(data) !== expected) {
      fail(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content')
      return
    }
    blobs.set(expected, data)
    send(res, 201, { Location: `/v2/${repo}/blobs/${expected}`, 'Docker-Content-Digest': expected })
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const method = req.method ?? 'GET'
    const body = await readBody(req, limits.bodyBytes)
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      send(res, 200, { 'Content-Type': 'application/json' }, method === 'HEAD' ? undefined : '{}')
      return
    }
    const match = ROUTE.exec(url.pathname)
    if (!match) {
      fail(res, 404, 'NAME_INVALID', 'unknown path')
      return
    }
    const [, name, kind, ref = ''] = match
    if (kind === 'blobs' && (method === 'GET' || method === 'HEAD')) {
      const blob = blobs.get(ref)
      if (!blob) {
        fail(res, 404, 'BLOB_UNKNOWN', `blob ${ref} unknown`)
        return
      }
      const headers = {
        'Content-Type': 'application/octet-stream',
        'Docker-Content-Digest': ref,
        'Content-Length': blob.length
      }
      if (method === 'HEAD') {
        res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0', ...headers })
        res.end()
      } else send(res, 200, headers, blob)
      return
    }
    if (kind === 'blobs/uploads') {
      if (method === 'POST' && ref === '') {
        const digest = url.searchParams.get('digest')
        if (digest !== null) {
          finishUpload(res, name, body, digest)
          return
        }
        const uuid = randomUUID()
        uploads.set(uuid, { repo: name, chunks: body.length ? [body] : [] })
        send(res, 202, {
          Location: `/v2/${name}/blobs/uploads/${uuid}`,
          'Docker-Upload-UUID': uuid,
          Range: `0-${Math.max(body.length - 1, 0)}`
        })
        return
      }
      const upload = uploads.get(ref)
      if (!upload || upload.repo !== name) {
        fail(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown')
        return
      }
      const size = () => upload.chunks.reduce((n, c) => n + c.length, 0)
      if (method === 'PATCH' || method === 'GET') {
        if (method === 'PATCH') upload.chunks.push(body)
        send(res, method === 'PATCH' ? 202 : 204, {
          Location: `/v2/${name}/blobs/uploads/${ref}`,
          'Docker-Upload-UUID': ref,
          Range: `0-${Math.max(size() - 1, 0)}`
        })
        return
      }
      if (method === 'PUT') {
        uploads.delete(ref)
        finishUpload(
          res,
          name,
          Buffer.concat([...upload.chunks, body]),
          url.searchParams.get('digest')
        )
        return
      }
      if (method === 'DELETE') {
        uploads.delete(ref)
        send(res, 204)
        return
      }
    }
    if (kind === 'manifests') {
      const repo = repositories.get(name)
      if (method === 'PUT') {
        const digest = sha256(body)
        if (DIGEST.test(ref) ? ref !== digest : !TAG.test(ref)) {
          fail(
            res,
            400,
            DIGEST.test(ref) ? 'DIGEST_INVALID' : 'TAG_INVALID',
            `bad reference ${ref}`
          )
          return
        }
        const target = repository(name)
        target.manifests.set(digest, {
          body,
          mediaType: req.headers['content-type'] || DEFAULT_MANIFEST_TYPE
        })
        if (!DIGEST.test(ref)) target.tags.set(ref, digest)
        send(res, 201, {
          Location: `/v2/${name}/manifests/${digest}`,
          'Docker-Content-Digest': digest
        })
        return
      }
      if (method === 'GET' || method === 'HEAD') {
        const digest = DIGEST.test(ref) ? ref : repo?.tags.get(ref)
        const manifest = digest ? repo?.manifests.get(digest) : undefined
        if (!digest || !manifest) {
          fail(res, 404, 'MANIFEST_UNKNOWN', `manifest ${ref} unknown`)
          return
        }
        const headers = {
          'Content-Type': manifest.mediaType,
          'Docker-Content-Digest': digest,
          'Content-Length': manifest.body.length
        }
        if (method === 'HEAD') {
          res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0', ...headers })
          res.end()
        } else send(res, 200, headers, manifest.body)
        return
      }
    }
    if (kind === 'tags' && ref === 'list' && method === 'GET') {
      const repo = repositories.get(name)
      if (!repo) {
        fail(res, 404, 'NAME_UNKNOWN', `repository ${name} unknown`)
        return
      }
      send(
        res,
        200,
        { 'Content-Type': 'application/json' },
        JSON.stringify({ name, tags: [...repo.tags.keys()].sort() })
      )
      return
    }
    fail(res, 405, 'UNSUPPORTED', `${method} ${url.pathname} is not supported`)
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy()
      else if (error instanceof BodyTooLarge) {
        res.setHeader('Connection', 'close')
        fail(res, 413, 'SIZE_INVALID', error.message)
      } else fail(res, 500, 'UNKNOWN', errorMessage(error))
    })
  }
}

/** Starts the registry on 127.0.0.1 on a free port; stop() closes it and drops its content. */
export async function startLocalRegistry(): Promise<LocalRegistry> {
  const server = http.createServer(registryHandler())
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    host: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close(error => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })
  }
}
