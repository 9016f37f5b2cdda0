/**
 * Auth around a registry handler, as wrappers: the registry (the dry run's in-process one, or a
 * forwarder to the distribution registry) only stores and serves; these decide who may ask.
 */
import { randomBytes } from 'node:crypto'
import type http from 'node:http'
import { fail, send } from '../src/dry-run/oci-wire.js'

export interface Credentials {
  username: string
  password: string
}

export const basicHeader = (c: Credentials): string =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`

/** Requests answered, in order (method, path without query, status), as the fakes expose them. */
export type RequestLog = { method: string; path: string; status: number }[]

/** Notes every answered request in `log`. */
export function recorded(log: RequestLog, inner: http.RequestListener): http.RequestListener {
  return (req, res) => {
    const method = req.method ?? 'GET'
    const path = (req.url ?? '/').split('?')[0]
    res.on('finish', () => log.push({ method, path, status: res.statusCode }))
    inner(req, res)
  }
}

/** Basic auth with exactly these credentials; anything else gets 401 and a Basic challenge. */
export function withBasicAuth(
  credentials: Credentials,
  inner: http.RequestListener
): http.RequestListener {
  const expected = basicHeader(credentials)
  return (req, res) => {
    if (req.headers.authorization === expected) return inner(req, res)
    req.resume()
    fail(res, 401, 'UNAUTHORIZED', 'authentication required', {
      'WWW-Authenticate': 'Basic realm="registry"'
    })
  }
}

/**
 * Bearer tokens, as GHCR, Docker Hub and Harbor speak them: a request without the token gets a
 * Bearer challenge whose realm (/token here) trades these Basic credentials for the token.
 */
export function withBearerToken(
  credentials: Credentials,
  inner: http.RequestListener
): http.RequestListener {
  const token = randomBytes(24).toString('base64url')
  const basic = basicHeader(credentials)
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/token') {
      req.resume()
      if (req.headers.authorization !== basic) return fail(res, 401, 'UNAUTHORIZED', 'bad login')
      const answer = JSON.stringify({ token, access_token: token, expires_in: 300 })
      return send(res, 200, { 'Content-Type': 'application/json' }, answer)
    }
    if (req.headers.authorization === `Bearer ${token}`) return inner(req, res)
    req.resume()
    const repo = /^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)\//.exec(path)?.[1]
    const scope = repo ? `,scope="repository:${repo}:pull,push"` : ''
    fail(res, 401, 'UNAUTHORIZED', 'authentication required', {
      'WWW-Authenticate': `Bearer realm="http://${req.headers.host}/token",service="registry"${scope}`
    })
  }
}
