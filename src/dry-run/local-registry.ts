import { randomUUID } from 'node:crypto'
import type * as http from 'node:http'
import { errorMessage } from '../errors.js'
import {
  BodyTooLarge,
  fail,
  readBody,
  send,
  serveOnLoopback,
  type LoopbackServer
} from './oci-wire.js'
import { asReferrer, referrersPage } from './referrers.js'
import { DIGEST, digestOf } from '../model.js'

export { MAX_BODY_BYTES } from './oci-wire.js'

/*
 * A minimal, in-memory OCI distribution registry on 127.0.0.1 (plain HTTP, no auth). The dry run
 * pushes each chart here to learn the exact manifest digest the real registry would get, whatever
 * the Helm version; CI scripts also start it on macOS/Windows runners. No dependencies, nothing on
 * disk, nothing reachable from outside the machine.
 *
 * Implements what Helm 3.8+ and 4 (ORAS v1 and v2) use: /v2/, blob HEAD/GET, uploads
 * (POST, PATCH, PUT; monolithic POST ?digest=), manifest HEAD/GET/PUT by tag or digest, tags list;
 * and, when asked (the unit tests' fake registry), the OCI 1.1 referrers API. Auth is the
 * caller's wrapper around the handler.
 */

/** `127.0.0.1:PORT`, for `oci://HOST/...` with `--plain-http` (Helm 3.13+; 3.8–3.12 use HTTP to loopback by themselves). */
export type LocalRegistry = LoopbackServer

export interface StoredManifest {
  body: Buffer
  mediaType: string
}

/** What the registry holds. Keys name the repository: `repo@digest`, `repo@tag`. */
export interface RegistryStore {
  blobs: Map<string, Buffer>
  manifests: Map<string, StoredManifest>
  /** `repo@tag` -> digest */
  tags: Map<string, string>
}

export function emptyStore(): RegistryStore {
  return { blobs: new Map(), manifests: new Map(), tags: new Map() }
}

/** Stores a manifest under its digest (and `ref`, unless that is a digest); returns the digest. */
export function storeManifest(
  store: RegistryStore,
  repo: string,
  ref: string,
  body: Buffer,
  mediaType: string
): string {
  const digest = digestOf(body)
  store.manifests.set(`${repo}@${digest}`, { body, mediaType })
  if (!DIGEST.test(ref)) store.tags.set(`${repo}@${ref}`, digest)
  return digest
}

export interface RegistryOptions {
  /** Where the content lives (a fresh store by default). */
  store?: RegistryStore
  /** The largest request body taken (MAX_BODY_BYTES by default). */
  bodyBytes?: number
  /** Serve the OCI 1.1 referrers API and answer OCI-Subject; without it, /referrers/ is 404. */
  referrers?: { pageSize?: number }
}

const NAME = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*'
const ROUTE = new RegExp(
  `^/v2/(${NAME})/(blobs/uploads|blobs|manifests|tags|referrers)(?:/([^/]*))?$`
)
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/
const DEFAULT_MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json'

const inRepo = <V>(map: Map<string, V>, repo: string): [string, V][] =>
  [...map.entries()]
    .filter(([key]) => key.startsWith(`${repo}@`))
    .map(([key, value]) => [key.slice(repo.length + 1), value])

/** The registry's request handler over in-memory state (exported for unit tests and fakes). */
export function registryHandler(options: RegistryOptions = {}): http.RequestListener {
  const store = options.store ?? emptyStore()
  const uploads = new Map<string, { repo: string; chunks: Buffer[] }>()

  const finishUpload = (
    res: http.ServerResponse,
    repo: string,
    data: Buffer,
    expected: string | null
  ): void => {
    if (!expected || !DIGEST.test(expected)) {
      return fail(res, 400, 'DIGEST_INVALID', 'digest parameter missing or not sha256')
    }
    if (digestOf(data) !== expected) {
      return fail(res, 400, 'DIGEST_INVALID', 'provided digest did not match uploaded content')
    }
    store.blobs.set(expected, data)
    send(res, 201, { Location: `/v2/${repo}/blobs/${expected}`, 'Docker-Content-Digest': expected })
  }

  const uploadRoute = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    name: string,
    ref: string,
    body: Buffer
  ): void => {
    const method = req.method ?? 'GET'
    if (method === 'POST' && ref === '') {
      const digest = url.searchParams.get('digest')
      if (digest !== null) return finishUpload(res, name, body, digest)
      const uuid = randomUUID()
      uploads.set(uuid, { repo: name, chunks: body.length ? [body] : [] })
      return send(res, 202, {
        Location: `/v2/${name}/blobs/uploads/${uuid}`,
        'Docker-Upload-UUID': uuid,
        Range: `0-${Math.max(body.length - 1, 0)}`
      })
    }
    const upload = uploads.get(ref)
    if (!upload || upload.repo !== name) {
      return fail(res, 404, 'BLOB_UPLOAD_UNKNOWN', 'upload unknown')
    }
    const size = () => upload.chunks.reduce((n, c) => n + c.length, 0)
    if (method === 'PATCH' || method === 'GET') {
      if (method === 'PATCH') upload.chunks.push(body)
      return send(res, method === 'PATCH' ? 202 : 204, {
        Location: `/v2/${name}/blobs/uploads/${ref}`,
        'Docker-Upload-UUID': ref,
        Range: `0-${Math.max(size() - 1, 0)}`
      })
    }
    if (method === 'PUT') {
      uploads.delete(ref)
      const data = Buffer.concat([...upload.chunks, body])
      return finishUpload(res, name, data, url.searchParams.get('digest'))
    }
    if (method === 'DELETE') {
      uploads.delete(ref)
      return send(res, 204)
    }
    fail(res, 405, 'UNSUPPORTED', `${method} ${url.pathname} is not supported`)
  }

  const manifestRoute = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    name: string,
    ref: string,
    body: Buffer
  ): void => {
    if (req.method === 'PUT') {
      const digest = digestOf(body)
      if (DIGEST.test(ref) ? ref !== digest : !TAG.test(ref)) {
        const code = DIGEST.test(ref) ? 'DIGEST_INVALID' : 'TAG_INVALID'
        return fail(res, 400, code, `bad reference ${ref}`)
      }
      const mediaType = req.headers['content-type'] || DEFAULT_MANIFEST_TYPE
      storeManifest(store, name, ref, body, mediaType)
      const headers: Record<string, string> = {
        Location: `/v2/${name}/manifests/${digest}`,
        'Docker-Content-Digest': digest
      }
      const subject = options.referrers && asReferrer(body, digest, mediaType)?.subject
      if (subject) headers['OCI-Subject'] = subject
      return send(res, 201, headers)
    }
    const digest = DIGEST.test(ref) ? ref : store.tags.get(`${name}@${ref}`)
    const manifest = digest ? store.manifests.get(`${name}@${digest}`) : undefined
    if (!digest || !manifest) return fail(res, 404, 'MANIFEST_UNKNOWN', `manifest ${ref} unknown`)
    send(
      res,
      200,
      { 'Content-Type': manifest.mediaType, 'Docker-Content-Digest': digest },
      manifest.body
    )
  }

  const referrersRoute = (res: http.ServerResponse, url: URL, name: string, ref: string) => {
    const listed = inRepo(store.manifests, name).flatMap(([digest, m]) => {
      const referrer = asReferrer(m.body, digest, m.mediaType)
      return referrer?.subject === ref ? [referrer.descriptor] : []
    })
    const page = referrersPage(url, listed, options.referrers?.pageSize)
    send(res, 200, page.headers, page.body)
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const method = req.method ?? 'GET'
    const body = await readBody(req, options.bodyBytes)
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      return send(res, 200, { 'Content-Type': 'application/json' }, '{}')
    }
    const match = ROUTE.exec(url.pathname)
    if (!match || (match[2] === 'referrers' && !options.referrers)) {
      return fail(res, 404, 'NAME_INVALID', 'unknown path')
    }
    const [, name, kind, ref = ''] = match
    const read = method === 'GET' || method === 'HEAD'
    if (kind === 'blobs' && read) {
      const blob = store.blobs.get(ref)
      if (!blob) return fail(res, 404, 'BLOB_UNKNOWN', `blob ${ref} unknown`)
      const headers = { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': ref }
      return send(res, 200, headers, blob)
    }
    if (kind === 'blobs/uploads') return uploadRoute(req, res, url, name, ref, body)
    if (kind === 'manifests' && (read || method === 'PUT')) {
      return manifestRoute(req, res, name, ref, body)
    }
    if (kind === 'referrers' && method === 'GET') return referrersRoute(res, url, name, ref)
    if (kind === 'tags' && ref === 'list' && method === 'GET') {
      const tags = inRepo(store.tags, name).map(([tag]) => tag)
      if (!tags.length && !inRepo(store.manifests, name).length) {
        return fail(res, 404, 'NAME_UNKNOWN', `repository ${name} unknown`)
      }
      const list = JSON.stringify({ name, tags: tags.sort() })
      return send(res, 200, { 'Content-Type': 'application/json' }, list)
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
export function startLocalRegistry(): Promise<LocalRegistry> {
  return serveOnLoopback(registryHandler())
}
