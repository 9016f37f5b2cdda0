/**
 * A registry that speaks Bearer tokens, as GHCR, Docker Hub and Harbor do: an HTTP front on
 * 127.0.0.1 before the distribution registry. /v2/ requests without a valid token get a Bearer
 * challenge whose realm (/token here) trades the registry's Basic credentials for a token; with
 * one, they go on to the registry with its Basic credentials. With `tamperBundles`, Sigstore
 * bundles served as blobs have their in-toto subject rewritten (a registry that stores, or a
 * path that returns, something else than what was pushed).
 */
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type net from 'node:net'
import type { Registry } from './registry.js'

export interface TokenFront {
  /** `127.0.0.1:PORT` */
  host: string
  /** Requests answered, in order (path and status; /token included). */
  requests: { method: string; path: string; status: number }[]
  tamperBundles: boolean
  stop(): Promise<void>
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** A bundle with its statement's subject digests replaced by zeros; other bytes unchanged. */
function tampered(body: Buffer): Buffer {
  try {
    const bundle = JSON.parse(body.toString()) as { dsseEnvelope?: { payload: string } }
    if (!bundle.dsseEnvelope) return body
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
      subject: { digest: { sha256: string } }[]
    }
    for (const s of statement.subject) s.digest.sha256 = '0'.repeat(64)
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64')
    return Buffer.from(JSON.stringify(bundle))
  } catch {
    return body
  }
}

export async function startTokenFront(registry: Registry): Promise<TokenFront> {
  const token = randomBytes(24).toString('base64url')
  const basic = `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`
  const upstream = new URL(registry.url)
  const requests: TokenFront['requests'] = []
  const state = { tamperBundles: false }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://front')
    const method = req.method ?? 'GET'
    res.on('finish', () => requests.push({ method, path: url.pathname, status: res.statusCode }))
    if (url.pathname === '/token') {
      if (req.headers.authorization !== basic) return res.writeHead(401).end()
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(JSON.stringify({ token, access_token: token, expires_in: 300 }))
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      const repo = /^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)\//.exec(url.pathname)?.[1]
      const scope = repo ? `,scope="repository:${repo}:pull,push"` : ''
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="token-front"${scope}`
      })
      return res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED' }] }))
    }
    void readBody(req).then(body => {
      const headers = { ...req.headers, authorization: basic }
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method, headers },
        answer => {
          const tamper = state.tamperBundles && method === 'GET' && url.pathname.includes('/blobs/')
          if (!tamper) {
            res.writeHead(answer.statusCode ?? 502, answer.headers)
            answer.pipe(res)
            return
          }
          void readBody(answer).then(data => {
            const out = tampered(data)
            res.writeHead(answer.statusCode ?? 502, {
              ...answer.headers,
              'content-length': String(out.length)
            })
            res.end(out)
          })
        }
      )
      forward.on('error', () => res.writeHead(502).end())
      forward.end(body)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    host: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests,
    get tamperBundles() {
      return state.tamperBundles
    },
    set tamperBundles(on) {
      state.tamperBundles = on
    },
    stop: () =>
      new Promise(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
