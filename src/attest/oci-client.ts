import { HttpClient } from '@actions/http-client'
import { USER_AGENT } from '../constants.js'
import { bodyOf, nextLink, parseChallenge, shown, tokenRealm } from './registry-wire.js'
import { digestOf, isDigest } from '../model.js'

export { nextLink, parseChallenge, shown, tokenRealm } from './registry-wire.js'

/*
 * The one OCI client of attestations: lookup (the referrers API, paged through its Link header,
 * and the `sha256-<hex>` tag schema) and push (bundle blob, empty config, referrer manifest, the
 * tag-schema index where the registry has no referrers API). Sign-in follows the registry's
 * challenge as @sigstore/oci and docker do: Basic credentials for a Basic challenge, a token from
 * the Bearer challenge's realm (service, scope) otherwise. Everything the registry returns is
 * data: digests must be `sha256:<64 hex>`, and content is checked against its digest.
 */

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  artifactType?: string
  annotations?: Record<string, string>
}

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json'
const MANIFEST_TYPES = [
  OCI_MANIFEST,
  OCI_INDEX,
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')
const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`
const MAX_PAGES = 50
interface Response {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

export class ReferrersClient {
  readonly #http = new HttpClient(USER_AGENT, [], {
    allowRetries: true,
    maxRetries: 2,
    keepAlive: true
  })
  readonly #base: string
  readonly #repository: string
  readonly #credentials: { username: string; password: string }
  #authorization?: Promise<string | undefined>

  /** `name` is `HOST/REPOSITORY` (the subject name). */
  constructor(name: string, credentials: { username: string; password: string }) {
    const slash = name.indexOf('/')
    const host = name.slice(0, slash)
    this.#repository = name.slice(slash + 1)
    const hostname = new URL(`http://${host}`).hostname
    // As @sigstore/oci does: plain HTTP for localhost registries, HTTPS otherwise.
    const local = hostname === 'localhost' || hostname === '127.0.0.1'
    this.#base = `${local ? 'http' : 'https'}://${host}/v2/${this.#repository}`
    this.#credentials = credentials
  }

  /** The Authorization header the registry's challenge asks for (one sign-in per client). */
  #signIn(): Promise<string | undefined> {
    this.#authorization ??= (async () => {
      const probe = await this.#send('GET', this.#base.replace(/\/v2\/.*$/, '/v2/'), {}, false)
      if (probe.status !== 401) return undefined
      const challenge = parseChallenge(String(probe.headers['www-authenticate'] ?? ''))
      const { username, password } = this.#credentials
      const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
      if (challenge.scheme === 'basic') return basic
      if (!challenge.realm) throw new Error('Bearer challenge without a realm')
      const url = tokenRealm(challenge.realm, this.#base)
      if (challenge.service) url.searchParams.set('service', challenge.service)
      url.searchParams.set('scope', `repository:${this.#repository}:pull,push`)
      const res = await this.#http.get(url.href, { authorization: basic })
      const body = (await bodyOf(res, `GET ${url.origin}`)).toString()
      if (res.message.statusCode !== 200) {
        throw new Error(`token endpoint ${url.origin}: HTTP ${res.message.statusCode}`)
      }
      const json = JSON.parse(body) as { token?: string; access_token?: string }
      const token = json.token ?? json.access_token
      if (!token) throw new Error(`token endpoint ${url.origin} answered without a token`)
      return `Bearer ${token}`
    })()
    this.#authorization.catch(() => (this.#authorization = undefined))
    return this.#authorization
  }

  async #send(
    method: string,
    url: string,
    headers: Record<string, string>,
    auth = true,
    body?: Buffer
  ): Promise<Response> {
    // Credentials go to the registry only, never to a Link or Location on another host.
    const ours = new URL(url).origin === new URL(this.#base).origin
    const authorization = auth && ours ? await this.#signIn() : undefined
    const all = authorization ? { ...headers, authorization } : headers
    // Every body here is JSON text: as a string, http-client sends its Content-Length.
    const res = await this.#http.request(method, url, body?.toString() ?? null, all)
    const data = await bodyOf(res, `${method} ${new URL(url).pathname}`)
    return { status: res.message.statusCode ?? 0, headers: res.message.headers, body: data }
  }

  async #expect(res: Response, what: string, ...ok: number[]): Promise<Response> {
    if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status}`)
    return res
  }

  /** Every referrer of `subject`: the referrers API (all pages) and the tag-schema index. */
  async referrers(subject: string): Promise<Descriptor[]> {
    const [viaApi, viaTag] = await Promise.all([
      this.#referrersApi(subject),
      this.#index(subject.replace(':', '-'))
    ])
    const seen = new Set<string>()
    return [...(viaApi ?? []), ...viaTag].filter(d => {
      if (!isDigest(d.digest) || seen.has(d.digest)) return false
      seen.add(d.digest)
      return true
    })
  }

  /** The referrers API's list, or undefined when the registry has no referrers API. */
  async #referrersApi(subject: string): Promise<Descriptor[] | undefined> {
    const found: Descriptor[] = []
    let url: string | undefined = `${this.#base}/referrers/${subject}`
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const res = await this.#send('GET', url, { accept: OCI_INDEX })
      if (res.status === 404 && page === 0) return undefined
      await this.#expect(res, `GET referrers of ${subject}`, 200)
      found.push(...manifestsOf(res.body))
      url = nextLink(res.headers.link as string | undefined, url)
    }
    return found
  }

  async #index(tag: string): Promise<Descriptor[]> {
    const res = await this.#send('GET', `${this.#base}/manifests/${tag}`, { accept: OCI_INDEX })
    if (res.status === 404) return []
    await this.#expect(res, `GET tag ${tag}`, 200)
    return manifestsOf(res.body)
  }

  /** A manifest by digest, its bytes checked against the digest. */
  async manifest(digest: string): Promise<Buffer> {
    return this.#byDigest('manifests', digest, MANIFEST_TYPES)
  }

  /** A blob by digest, as the registry serves it (the caller judges the bytes). */
  async blob(digest: string): Promise<Buffer> {
    return this.#byDigest('blobs', digest, '*/*', false)
  }

  async #byDigest(kind: string, digest: string, accept: string, check = true): Promise<Buffer> {
    if (!isDigest(digest)) throw new Error(`not a sha256 digest: ${shown(digest)}`)
    const res = await this.#send('GET', `${this.#base}/${kind}/${digest}`, { accept })
    await this.#expect(res, `GET ${kind} ${digest}`, 200)
    if (check && digestOf(res.body) !== digest)
      throw new Error(`${kind} ${digest}: content does not match`)
    return res.body
  }

  /**
   * Pushes `artifact` as a referrer of `subject` (an OCI 1.1 manifest with `subject`); where the
   * registry has no referrers API, also adds it to the `sha256-<hex>` index. Returns the referrer.
   */
  async attach(
    subject: string,
    artifact: Buffer,
    mediaType: string,
    annotations: Record<string, string>
  ): Promise<Descriptor> {
    const head = await this.#send('HEAD', `${this.#base}/manifests/${subject}`, {
      accept: MANIFEST_TYPES
    })
    await this.#expect(head, `HEAD manifest ${subject}`, 200)
    const subjectDescriptor = {
      mediaType: String(head.headers['content-type'] ?? OCI_MANIFEST),
      digest: subject,
      size: Number(head.headers['content-length'] ?? 0)
    }
    const [layer, config] = await Promise.all([
      this.#uploadBlob(artifact, mediaType),
      this.#uploadBlob(Buffer.from('{}'), EMPTY_CONFIG)
    ])
    const all = { 'org.opencontainers.image.created': new Date().toISOString(), ...annotations }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: mediaType,
        config,
        layers: [layer],
        subject: subjectDescriptor,
        annotations: all
      })
    )
    const digest = digestOf(manifest)
    const put = await this.#send(
      'PUT',
      `${this.#base}/manifests/${digest}`,
      { 'content-type': OCI_MANIFEST },
      true,
      manifest
    )
    await this.#expect(put, `PUT referrer manifest`, 201)
    const referrer = { mediaType: OCI_MANIFEST, digest, size: manifest.length }
    // ECR once answered OCI-Subject without serving the referrers API: ask the API as well.
    if (!put.headers['oci-subject'] || !(await this.#referrersApi(ZERO_DIGEST))) {
      await this.#addToTagIndex(subject, { ...referrer, artifactType: mediaType, annotations: all })
    }
    return referrer
  }

  async #uploadBlob(data: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = digestOf(data)
    const descriptor = { mediaType, digest, size: data.length }
    const head = await this.#send('HEAD', `${this.#base}/blobs/${digest}`, {})
    if (head.status === 200) return descriptor
    const start = await this.#send('POST', `${this.#base}/blobs/uploads/`, {})
    await this.#expect(start, 'POST blob upload', 202)
    const location = new URL(String(start.headers.location ?? ''), `${this.#base}/`)
    location.searchParams.set('digest', digest)
    const put = await this.#send(
      'PUT',
      location.href,
      { 'content-type': 'application/octet-stream' },
      true,
      data
    )
    await this.#expect(put, `PUT blob ${digest}`, 201)
    return descriptor
  }

  async #addToTagIndex(subject: string, referrer: Descriptor): Promise<void> {
    const tag = subject.replace(':', '-')
    const manifests = await this.#index(tag)
    if (manifests.some(d => d.digest === referrer.digest)) return
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [...manifests, referrer]
      })
    )
    const put = await this.#send(
      'PUT',
      `${this.#base}/manifests/${tag}`,
      { 'content-type': OCI_INDEX },
      true,
      index
    )
    await this.#expect(put, `PUT referrers index ${tag}`, 201)
  }
}

function manifestsOf(body: Buffer): Descriptor[] {
  const index = JSON.parse(body.toString()) as { manifests?: unknown }
  return Array.isArray(index.manifests) ? (index.manifests as Descriptor[]) : []
}
