import * as core from '@actions/core'
import type { Predicate } from '@actions/attest'
import { HttpClient } from '@actions/http-client'
import type { attachArtifactToImage } from '@sigstore/oci'
import { USER_AGENT } from '../constants.js'
import { UserError, errorMessage, oneLine } from '../errors.js'
import type { ChartResult } from '../model.js'

/* Build provenance for pushed charts: a SLSA v1 predicate from the workflow's OIDC token, signed
   keyless through Sigstore by @actions/attest, stored in the registry as an OCI referrer of the
   chart's digest (@sigstore/oci: the referrers API, else the `sha256-<hex>` tag schema) and, when
   the token allows it, in GitHub's attestations API. */

export const SLSA_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1'
/** Media types of Sigstore bundles start with this (v0.3: `...bundle.v0.3+json`). */
export const BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle'
/** Annotations on the referrer manifest (also copied into referrers indexes). */
export const Annotation = {
  Content: 'dev.sigstore.bundle.content',
  PredicateType: 'dev.sigstore.bundle.predicateType',
  /** The repository whose workflow made the attestation: `https://github.com/OWNER/REPO`. */
  Source: 'org.opencontainers.image.source'
} as const

type FetchOpts = NonNullable<Parameters<typeof attachArtifactToImage>[0]['fetchOpts']>

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'

/** With attest on, the OIDC token must be available before anything is pushed. */
export function requireIdToken(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    throw new UserError(
      'Input "attest" is true but the job has no OIDC token to sign with: add "permissions: id-token: write" to the job (and "attestations: write" to also store attestations in GitHub), or set "attest: false".'
    )
  }
}

export interface ChartAttestation {
  /** Digest of the referrer manifest that holds the bundle. */
  digest: string
  /** The GitHub attestation, when GitHub's attestations API stored it. */
  url?: string
}

export interface AttestorOptions {
  /** Basic credentials for the registry (ECR: AWS + the GetAuthorizationToken password). */
  credentials: { username: string; password: string }
  /** Token for GitHub's attestations API; no token, no GitHub copy. */
  githubToken?: string
  /** `https://github.com` (GITHUB_SERVER_URL). */
  serverUrl: string
  /** `https://api.github.com` (GITHUB_API_URL). */
  apiUrl: string
  /** `OWNER/REPO` (GITHUB_REPOSITORY). */
  repository: string
  /** OIDC issuer; @actions/attest derives it from GITHUB_SERVER_URL when omitted (tests only). */
  issuer?: string
  /** What to check when the registry refuses the referrer push (the registry kind's push fix). */
  pushPermissionFix?: string
  /** Registry request timeout and retries (defaults as actions/attest: 30 s, 3). */
  registryFetch?: { timeout: number; retry: number }
}

/** A failure after the chart was pushed: one line, ending with how to attest it later. */
export class AttestationError extends UserError {}

function pushedButNot(what: string, detail: string, fix = ''): AttestationError {
  return new AttestationError(
    `${what} (${detail})${fix ? `: ${fix.replace(/\.$/, '')};` : ':'} the chart stays pushed, and a re-run with "skip-existing: true" attests it.`
  )
}

/** The messages of an error chain, outermost first (Sigstore and @sigstore/oci wrap causes). */
function describe(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current && depth < 4; depth++) {
    const message = errorMessage(current)
    if (message && !parts.includes(message)) parts.push(message)
    current = current instanceof Error ? current.cause : undefined
  }
  return oneLine(parts.join(': '))
}

/** HTTP status in a Sigstore error chain, if the service answered at all. */
function statusOf(error: unknown): number | undefined {
  let current: unknown = error
  for (let depth = 0; current && depth < 4; depth++) {
    const status = (current as { statusCode?: unknown }).statusCode
    if (typeof status === 'number') return status
    current = current instanceof Error ? current.cause : undefined
  }
  return undefined
}

/** Network errors, timeouts, 5xx, 408 and 429 are worth another try; other answers are not. */
export function isTransientSigstoreError(error: unknown): boolean {
  const status = statusOf(error)
  return status === undefined || status >= 500 || status === 408 || status === 429
}

interface ReferrerDescriptor {
  digest: string
  artifactType?: string
  annotations?: Record<string, string>
}

export class Attestor {
  readonly #options: AttestorOptions
  #predicate?: Promise<Predicate>
  #githubStoreOff = false
  readonly #http: HttpClient

  constructor(options: AttestorOptions) {
    this.#options = options
    routeSigstoreLogs()
    this.#http = new HttpClient(USER_AGENT, [], { allowRetries: true, maxRetries: 2 })
  }

  /** `https://github.com/OWNER/REPO`, recorded on each referrer. */
  get sourceUrl(): string {
    return `${this.#options.serverUrl}/${this.#options.repository}`
  }

  /** The SLSA predicate (from the OIDC token's claims), built once per run. */
  provenance(): Promise<Predicate> {
    // The Sigstore libraries load only when a run attests (they are most of the bundle's size).
    this.#predicate ??= import('@actions/attest').then(lib =>
      lib.buildSLSAProvenancePredicate(this.#options.issuer)
    )
    return this.#predicate
  }

  /**
   * Attests one pushed chart: signs its provenance, stores the bundle as a referrer of `digest`
   * in the registry, then (best effort) in GitHub. Throws AttestationError.
   */
  async attestChart(
    name: string,
    digest: string,
    log: (line: string) => void
  ): Promise<ChartAttestation> {
    let predicate: Predicate
    try {
      predicate = await this.provenance()
    } catch (error) {
      this.#predicate = undefined // a later chart may try again
      throw pushedButNot(
        "Could not build the provenance from the workflow's OIDC token",
        describe(error),
        'check that the job has "permissions: id-token: write"'
      )
    }
    const hex = digest.replace(/^sha256:/, '')
    // @actions/attest gives every Fulcio, Rekor and TSA call 3 retries (1 s, 2 s, 4 s apart) on
    // network errors, 5xx, 408 and 429, with a 10 s timeout: transient failures are retried there.
    const { attest } = await import('@actions/attest')
    const signed = await attest({
      subjects: [{ name, digest: { sha256: hex } }],
      predicateType: predicate.type,
      predicate: predicate.params,
      token: this.#options.githubToken ?? '',
      skipWrite: true
    }).catch((error: unknown) => {
      const transient = isTransientSigstoreError(error)
      throw pushedButNot(
        `Sigstore could not sign the provenance of ${name}@${digest}${transient ? ' after retries' : ''}`,
        describe(error),
        transient
          ? "check the runner's network and proxy settings for Sigstore (Fulcio, Rekor, the timestamp authority)"
          : ''
      )
    })
    const referrer = await this.storeInRegistry(name, digest, signed.bundle, predicate.type)
    log(`Attested ${name}@${digest}: referrer ${referrer}`)
    const url = await this.storeInGitHub(signed.bundle, log)
    return url ? { digest: referrer, url } : { digest: referrer }
  }

  /**
   * Pushes the bundle as a referrer of `digest` (@sigstore/oci: the referrers API where the
   * registry has it, else an index under the `sha256-<hex>` tag); returns the referrer's digest.
   */
  async storeInRegistry(
    name: string,
    digest: string,
    bundle: { mediaType: string },
    predicateType: string
  ): Promise<string> {
    try {
      const { attachArtifactToImage } = await import('@sigstore/oci')
      const descriptor = await attachArtifactToImage({
        credentials: this.#options.credentials,
        imageName: name,
        imageDigest: digest,
        artifact: Buffer.from(JSON.stringify(bundle)),
        mediaType: bundle.mediaType,
        annotations: {
          [Annotation.Content]: 'dsse-envelope',
          [Annotation.PredicateType]: predicateType,
          [Annotation.Source]: this.sourceUrl
        },
        // Proxies: make-fetch-happen reads HTTPS_PROXY/NO_PROXY when no proxy is given here.
        fetchOpts: (this.#options.registryFetch ?? { timeout: 30_000, retry: 3 }) as FetchOpts
      })
      return descriptor.digest
    } catch (error) {
      throw pushedButNot(
        `The registry refused the attestation of ${name}@${digest}`,
        describe(error),
        this.#options.pushPermissionFix ??
          'check that the registry login may push to this repository and read its manifests'
      )
    }
  }

  /**
   * Stores the bundle in GitHub's attestations API. The registry copy is the one that must exist:
   * a refusal (no `attestations: write`) warns once and turns this off for the rest of the run.
   */
  async storeInGitHub(bundle: unknown, log: (line: string) => void): Promise<string | undefined> {
    const token = this.#options.githubToken
    if (!token || this.#githubStoreOff) return undefined
    const endpoint = `${this.#options.apiUrl}/repos/${this.#options.repository}/attestations`
    try {
      const response = await this.#http.postJson<{ id?: number | string }>(
        endpoint,
        { bundle },
        {
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28'
        }
      )
      const id = response.result?.id
      if (id === undefined) throw new Error(`HTTP ${response.statusCode} without an attestation id`)
      const url = `${this.#options.serverUrl}/${this.#options.repository}/attestations/${id}`
      log(`Stored in GitHub: ${url}`)
      return url
    } catch (error) {
      this.#githubStoreOff = true
      const status = (error as { statusCode?: number }).statusCode
      const refused = status === 401 || status === 403 || status === 404
      core.warning(
        `Attestations are stored in the registry only: GitHub's attestations API did not take them (${status ? `HTTP ${status}: ` : ''}${describe(error)}): ${refused ? 'add "permissions: attestations: write" to the job (and keep "github-token" its default) to also store them in GitHub.' : 'the registry copies are complete, and they are what "gh attestation verify --bundle-from-oci" and cosign read.'}`
      )
      return undefined
    }
  }

  /**
   * The referrer digest of an attestation this repository already stored for `digest`, looked up
   * through the referrers API and the `sha256-<hex>` tag schema; undefined when there is none.
   * The match is on the annotations the referrer carries (artifact type, predicate type, source),
   * not on a verified signature.
   */
  async findAttestation(name: string, digest: string): Promise<string | undefined> {
    const slash = name.indexOf('/')
    const host = name.slice(0, slash)
    const repo = name.slice(slash + 1)
    const hostname = new URL(`http://${host}`).hostname
    // As @sigstore/oci does: plain HTTP for localhost registries, HTTPS otherwise.
    const scheme = hostname === 'localhost' || hostname === '127.0.0.1' ? 'http' : 'https'
    const base = `${scheme}://${host}/v2/${repo}`
    const { username, password } = this.#options.credentials
    const headers = {
      authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      accept: OCI_INDEX
    }
    const indexAt = async (url: string): Promise<ReferrerDescriptor[]> => {
      const response = await this.#http.get(url, headers)
      const body = await response.readBody()
      const status = response.message.statusCode ?? 0
      if (status === 404) return []
      if (status !== 200) throw new Error(`GET ${url.replace(/\?.*$/, '')}: HTTP ${status}`)
      const index = JSON.parse(body) as { manifests?: ReferrerDescriptor[] }
      return index.manifests ?? []
    }
    const [viaApi, viaTag] = await Promise.all([
      indexAt(`${base}/referrers/${digest}`),
      indexAt(`${base}/manifests/${digest.replace(':', '-')}`)
    ])
    const match = [...viaApi, ...viaTag].find(
      d =>
        (d.artifactType ?? '').startsWith(BUNDLE_MEDIA_TYPE_PREFIX) &&
        d.annotations?.[Annotation.PredicateType] === SLSA_PREDICATE_TYPE &&
        d.annotations?.[Annotation.Source] === this.sourceUrl
    )
    return match?.digest
  }
}

let sigstoreLogRouted = false
/** Routes Sigstore's HTTP log events (proc-log: retries, failed attempts) to the debug log. */
function routeSigstoreLogs(): void {
  if (sigstoreLogRouted) return
  sigstoreLogRouted = true
  process.on('log', (level: string, ...args: unknown[]) => {
    if (level === 'http') core.debug(args.join(' '))
  })
}

/** `oci://HOST/NS/CHART:TAG` -> `HOST/NS/CHART` (the subject and referrer image name). */
export function subjectOfRef(ref: string): string {
  return ref.replace(/^oci:\/\//, '').replace(/:[^:/]+$/, '')
}

/**
 * Attests one chart's result, right after it was published: a pushed chart always; with
 * skip-existing, a skipped version that has no attestation from this repository yet (one that
 * has one is left alone). A failure becomes the chart's error, one line; the chart stays pushed.
 */
export async function attestResult(
  result: ChartResult,
  attestor: Attestor,
  skipExisting: boolean,
  log: (line: string) => void
): Promise<ChartResult> {
  if (result.error || !result.digest || !(result.pushed || skipExisting)) return result
  const name = subjectOfRef(result.ref)
  try {
    if (!result.pushed) {
      const existing = await attestor.findAttestation(name, result.digest).catch(error => {
        log(`Could not look up existing attestations (${describe(error)}); attesting`)
        return undefined
      })
      if (existing) {
        log(`Already attested by this repository (referrer ${existing}); left alone`)
        return { ...result, attestation: { digest: existing } }
      }
    }
    const attestation = await attestor.attestChart(name, result.digest, log)
    return { ...result, attestation }
  } catch (error) {
    const message = errorMessage(error)
    log(`Failed: ${message}`)
    return { ...result, error: message }
  }
}
