import { once } from 'node:events'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as tls from 'node:tls'
import { UserError, oneLine } from '../errors.js'
import { digestOf, isDigest } from '../model.js'
import { proxyFor } from '../runtime/proxy.js'
import type { TlsOptions } from '../config/inputs.js'

/*
 * Whether a tag exists in an OCI registry, and its digest, in one manifest request: HEAD
 * /v2/<repository>/manifests/<tag> with Basic credentials, answering a Bearer challenge (GHCR,
 * Docker Hub, Harbor) with one token request. The registry's Docker-Content-Digest header is
 * the manifest digest `helm push` printed.
 */

const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

export interface ManifestLookup {
  host: string
  /** Repository path, e.g. `charts/el-testo`. */
  repository: string
  tag: string
  credentials?: { username: string; password: string }
  tls: TlsOptions
}

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** One request through HTTPS_PROXY/NO_PROXY (as every connection of the action), with the TLS inputs. */
async function request(
  url: URL,
  method: string,
  headers: http.OutgoingHttpHeaders,
  o: TlsOptions
): Promise<Answer> {
  const secure = url.protocol === 'https:'
  const ca = o.caFile ? [...tls.rootCertificates, fs.readFileSync(o.caFile, 'utf8')] : undefined
  const tlsOptions = { ...(ca ? { ca } : {}), rejectUnauthorized: !o.insecureSkipTlsVerify }
  const proxy = proxyFor(url)
  const agent = proxy
    ? new (await import('https-proxy-agent')).HttpsProxyAgent(proxy, tlsOptions)
    : undefined
  const req = (secure ? https : http).request(url, {
    method,
    headers,
    agent,
    ...(secure ? tlsOptions : {})
  })
  req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')))
  req.end()
  const [res] = (await once(req, 'response')) as [http.IncomingMessage]
  const body = Buffer.concat((await res.toArray()) as Buffer[])
  return { status: res.statusCode ?? 0, headers: res.headers, body }
}

/** `Bearer realm="…",service="…",scope="…"` -> its parameters, or undefined for other schemes. */
export function parseBearerChallenge(
  header: string | undefined
): Record<string, string> | undefined {
  if (!header || !/^bearer\s/i.test(header)) return undefined
  const params: Record<string, string> = {}
  for (const m of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params[m[1].toLowerCase()] = m[2]
  return params.realm ? params : undefined
}

async function bearerToken(
  challenge: Record<string, string>,
  lookup: ManifestLookup,
  basic?: string
) {
  const url = new URL(challenge.realm)
  if (challenge.service) url.searchParams.set('service', challenge.service)
  url.searchParams.set('scope', challenge.scope ?? `repository:${lookup.repository}:pull`)
  const answer = await request(url, 'GET', basic ? { authorization: basic } : {}, lookup.tls)
  if (answer.status !== 200) return undefined
  const body = JSON.parse(answer.body.toString('utf8')) as { token?: string; access_token?: string }
  return body.token ?? body.access_token
}

/** The digest of `repository:tag`, or undefined when the tag (or the repository) does not exist. */
export async function manifestDigest(lookup: ManifestLookup): Promise<string | undefined> {
  const scheme = lookup.tls.plainHttp ? 'http' : 'https'
  const url = new URL(`${scheme}://${lookup.host}/v2/${lookup.repository}/manifests/${lookup.tag}`)
  const { credentials } = lookup
  const basic = credentials
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
    : undefined
  const ask = (authorization?: string, method = 'HEAD') =>
    request(
      url,
      method,
      { accept: ACCEPT, ...(authorization ? { authorization } : {}) },
      lookup.tls
    )
  let answer = await ask(basic)
  const challenge =
    answer.status === 401
      ? parseBearerChallenge(String(answer.headers['www-authenticate'] ?? ''))
      : undefined
  const token = challenge ? await bearerToken(challenge, lookup, basic) : undefined
  if (token) answer = await ask(`Bearer ${token}`)
  if (answer.status === 404) return undefined
  if (answer.status === 401 || answer.status === 403) {
    throw new UserError(
      `Registry ${lookup.host} refused to show ${lookup.repository}:${lookup.tag} (HTTP ${answer.status}): check "username"/"password" and that they may pull this repository.`
    )
  }
  if (answer.status !== 200) {
    throw new Error(
      `registry ${lookup.host} answered HTTP ${answer.status} for the manifest of ${lookup.repository}:${lookup.tag}`
    )
  }
  let digest = String(answer.headers['docker-content-digest'] ?? '')
  if (!digest) {
    // Without the header, the digest is the manifest's own sha256 (one GET).
    const body = (await ask(token ? `Bearer ${token}` : basic, 'GET')).body
    digest = digestOf(body)
  }
  if (!isDigest(digest)) {
    throw new Error(
      `registry ${lookup.host} gave a malformed digest for ${lookup.repository}:${lookup.tag} (${oneLine(digest).slice(0, 80)})`
    )
  }
  return digest
}
