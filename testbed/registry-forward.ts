/**
 * Forwarding a registry request to the distribution registry (the real `docker-registry`
 * process), with that registry's own Basic credentials: what the test world's fronts (the ECR
 * emulator's gate, the token front) do after their own checks.
 */
import http from 'node:http'
import { fail } from '../src/dry-run/oci-wire.js'
import type { Registry } from './registry.js'

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'authorization'
])

function endToEnd(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v
  }
  return out
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => resolve(Buffer.concat(chunks)))
    stream.on('error', reject)
  })
}

export interface ForwardOptions {
  /** The request body when the front has read it already (else the request is piped on). */
  body?: Buffer
  /** Told the backend's status before the answer goes out (headers may still be set). */
  onStatus?: (status: number) => void
  /** Rewrites the backend's answer body (buffered; Content-Length follows). */
  rewrite?: (body: Buffer) => Buffer
}

/** Sends `req` on to `backend` and its answer back through `res`. */
export function forwardTo(
  backend: Pick<Registry, 'url' | 'authorization'>,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  opts: ForwardOptions = {}
): void {
  const headers: Record<string, string | string[]> = {
    ...endToEnd(req.headers),
    authorization: backend.authorization
  }
  if (opts.body) {
    headers['content-length'] = String(opts.body.length)
    delete headers['transfer-encoding']
  }
  const upstream = http.request(
    `${backend.url}${req.url ?? '/'}`,
    { method: req.method, headers, timeout: 60_000 },
    up => {
      const out = endToEnd(up.headers)
      delete out['www-authenticate']
      const status = up.statusCode ?? 502
      opts.onStatus?.(status)
      up.on('error', () => res.destroy())
      const { rewrite } = opts
      if (!rewrite) {
        res.writeHead(status, out)
        up.pipe(res)
        return
      }
      void readAll(up).then(data => {
        const body = rewrite(data)
        res.writeHead(status, { ...out, 'content-length': String(body.length) })
        res.end(body)
      })
    }
  )
  upstream.on('timeout', () => upstream.destroy(new Error('backend timeout')))
  upstream.on('error', error => {
    if (!res.headersSent) fail(res, 502, 'UNKNOWN', `backend: ${error.message}`)
    else res.destroy()
  })
  if (opts.body) upstream.end(opts.body)
  else req.pipe(upstream)
}
