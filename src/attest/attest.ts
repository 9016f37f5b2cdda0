import * as core from '@actions/core'
import { errorMessage } from '../errors.js'
import type { ChartResult } from '../model.js'
import { GitHubAttestations } from './github-api.js'
import { ReferrersClient, shown } from './oci-client.js'
import { isDigest } from '../model.js'
import { SLSA_PREDICATE_TYPE, type Expected } from './policy.js'
import { ProvenanceSigner, describe, pushedButNot } from './signing.js'
import { BundleVerifier, TrustedRootUnavailable, signingInstance } from './verify.js'

/*
 * Provenance for pushed charts, composed from its roles: sign (signing.ts), store as an OCI
 * referrer of the chart digest (oci-client.ts), read back and verify what was stored
 * (verify.ts, policy.ts), and copy to GitHub's attestations API (github-api.ts).
 */

export { AttestationError, isTransientSigstoreError, requireIdToken } from './signing.js'
export { SLSA_PREDICATE_TYPE } from './policy.js'

/** Media types of Sigstore bundles start with this (v0.3: `...bundle.v0.3+json`). */
export const BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle'
/** Annotations on the referrer manifest (also copied into referrers indexes). */
export const Annotation = {
  Content: 'dev.sigstore.bundle.content',
  PredicateType: 'dev.sigstore.bundle.predicateType',
  /** The repository whose workflow made the attestation: `https://github.com/OWNER/REPO`. */
  Source: 'org.opencontainers.image.source'
} as const

/**
 * Referrers that do not verify, checked before attesting anew: anyone who may push can plant
 * thousands, each a manifest, a blob and a verification (and a log line) on every re-run.
 */
export const MAX_REJECTED = 16

export interface ChartAttestation {
  /** Digest of the referrer manifest that holds the bundle. */
  digest: string
  /** The GitHub attestation, when GitHub's attestations API stored it. */
  url?: string
  /** The bundle verified against the instance's trusted root and this repository's policy. */
  verified?: true
}

export interface AttestorOptions {
  /** Credentials for the registry (ECR: AWS + the GetAuthorizationToken password). */
  credentials: { username: string; password: string }
  /** Token for GitHub's attestations API; no token, no GitHub copy. */
  githubToken?: string
  /** `https://github.com` (GITHUB_SERVER_URL). */
  serverUrl: string
  /** `https://api.github.com` (GITHUB_API_URL). */
  apiUrl: string
  /** `OWNER/REPO` (GITHUB_REPOSITORY). */
  repository: string
  /** OIDC issuer for the predicate (tests only). */
  issuer?: string
  /** What to check when the registry refuses the referrer push (the registry kind's push fix). */
  pushPermissionFix?: string
  /** Verification of bundles (tests give one with their own trusted roots). */
  verifier?: BundleVerifier
}

export class Attestor {
  readonly #options: AttestorOptions
  readonly signer: ProvenanceSigner
  readonly github: GitHubAttestations
  readonly verifier: BundleVerifier
  readonly #clients = new Map<string, ReferrersClient>()
  #warnedUnverifiable = false

  constructor(options: AttestorOptions) {
    this.#options = options
    this.signer = new ProvenanceSigner(options.issuer)
    this.github = new GitHubAttestations({ ...options, token: options.githubToken })
    this.verifier = options.verifier ?? new BundleVerifier()
  }

  /** `https://github.com/OWNER/REPO`, recorded on each referrer. */
  get sourceUrl(): string {
    return `${this.#options.serverUrl}/${this.#options.repository}`
  }

  /** The registry client for `HOST/REPOSITORY` (one sign-in per repository and run). */
  client(name: string): ReferrersClient {
    let client = this.#clients.get(name)
    if (!client) {
      client = new ReferrersClient(name, this.#options.credentials)
      this.#clients.set(name, client)
    }
    return client
  }

  /** What a bundle must be to count: this repository's provenance of `digest`. */
  async #expected(digest: string): Promise<Expected> {
    const { serverUrl, repository } = this.#options
    const builderId = await this.signer.builderId()
    return { serverUrl, repository, digest, ...(builderId ? { builderId } : {}) }
  }

  /** One warning per run when trusted roots are out of reach. */
  unverifiable(error: TrustedRootUnavailable): void {
    if (this.#warnedUnverifiable) return
    this.#warnedUnverifiable = true
    core.warning(
      `Attestations could not be verified: ${errorMessage(error)}; published versions are attested anew (a duplicate attestation is harmless).`
    )
  }

  /**
   * The referrer of `digest` whose bundle verifies as this repository's provenance of it, or
   * undefined. Referrers that do not verify are named in the log and ignored, up to
   * MAX_REJECTED of them (then undefined, so the chart is attested anew). Throws
   * TrustedRootUnavailable when nothing can be verified.
   */
  async findAttestation(
    name: string,
    digest: string,
    log: (line: string) => void
  ): Promise<string | undefined> {
    const client = this.client(name)
    const candidates = (await client.referrers(digest)).filter(d =>
      String(d.artifactType ?? '').startsWith(BUNDLE_MEDIA_TYPE_PREFIX)
    )
    for (const [index, candidate] of candidates.entries()) {
      if (index === MAX_REJECTED) {
        log(
          `${candidates.length - index} more referrers of ${digest} were not checked (${index} did not verify); attesting`
        )
        return undefined
      }
      const bundle = await this.#bundleOf(client, candidate.digest, digest).catch(
        (error: unknown) => ({ unreadable: errorMessage(error) })
      )
      const verdict =
        'unreadable' in bundle
          ? { ok: false as const, reason: bundle.unreadable }
          : await this.verifier.verify(bundle.json, await this.#expected(digest))
      if (verdict.ok) return candidate.digest
      log(
        `Referrer ${candidate.digest} is not this repository's attestation: ${shown(verdict.reason)}`
      )
    }
    return undefined
  }

  /** The bundle a referrer holds (its first layer), with its bytes. */
  async #bundleOf(
    client: ReferrersClient,
    referrer: string,
    subject: string
  ): Promise<{ json: unknown; bytes: Buffer }> {
    const manifest = JSON.parse((await client.manifest(referrer)).toString()) as {
      subject?: { digest?: unknown }
      layers?: { digest?: unknown }[]
    }
    if (manifest.subject?.digest !== subject)
      throw new Error(`its manifest's subject is not ${subject}`)
    const layer = manifest.layers?.[0]?.digest
    if (!isDigest(layer)) throw new Error('its manifest has no bundle layer')
    const bytes = await client.blob(layer)
    return { json: JSON.parse(bytes.toString()) as unknown, bytes }
  }

  /**
   * Attests one pushed chart: signs its provenance, stores the bundle as a referrer of `digest`,
   * reads it back, verifies it, then (best effort) stores it in GitHub. Throws AttestationError.
   */
  async attestChart(
    name: string,
    digest: string,
    log: (line: string) => void
  ): Promise<ChartAttestation> {
    // The trusted root travels while Fulcio signs (its failure is handled at verification).
    void signingInstance()
      .then(instance => this.verifier.trustFor(instance))
      .catch(() => undefined)
    const bundle = await this.signer.sign(name, digest)
    const bytes = Buffer.from(JSON.stringify(bundle))
    const client = this.client(name)
    const referrer = await client
      .attach(digest, bytes, bundle.mediaType, {
        [Annotation.Content]: 'dsse-envelope',
        [Annotation.PredicateType]: SLSA_PREDICATE_TYPE,
        [Annotation.Source]: this.sourceUrl
      })
      .catch((error: unknown) => {
        throw pushedButNot(
          `The registry refused the attestation of ${name}@${digest}`,
          describe(error),
          this.#options.pushPermissionFix ??
            'check that the registry login may push to this repository and read its manifests'
        )
      })
    log(`Attested ${name}@${digest}: referrer ${referrer.digest}`)
    await this.readBack(client, referrer.digest, digest, bytes)
    const verified = await this.#verifyOwn(bundle, digest)
    const url = await this.github.store(bundle, log)
    return { digest: referrer.digest, ...(url ? { url } : {}), ...(verified ? { verified } : {}) }
  }

  /** The stored referrer must hold the bundle just signed, byte for byte, naming `digest`. */
  async readBack(
    client: ReferrersClient,
    referrer: string,
    digest: string,
    signed: Buffer
  ): Promise<void> {
    const stored = await this.#bundleOf(client, referrer, digest).catch((error: unknown) => {
      throw pushedButNot(`Could not read back the attestation of ${digest}`, describe(error))
    })
    const subjects = subjectDigests(stored.json)
    if (!subjects.includes(digest) || !stored.bytes.equals(signed)) {
      throw pushedButNot(
        `The attestation stored for ${digest} is not the one signed`,
        `referrer ${referrer} holds a bundle whose subject is ${shown(subjects.join(', ') || 'missing')}`,
        'check what rewrites content between the runner and the registry'
      )
    }
  }

  async #verifyOwn(bundle: unknown, digest: string): Promise<true | undefined> {
    try {
      const verdict = await this.verifier.verify(bundle, await this.#expected(digest))
      if (verdict.ok) return true
      throw pushedButNot(`The attestation of ${digest} does not verify`, shown(verdict.reason))
    } catch (error) {
      if (!(error instanceof TrustedRootUnavailable)) throw error
      this.unverifiable(error)
      return undefined
    }
  }
}

/** The sha256 digests an in-toto bundle's statement names (`sha256:<hex>`). */
export function subjectDigests(bundle: unknown): string[] {
  try {
    const payload = (bundle as { dsseEnvelope?: { payload?: string } }).dsseEnvelope?.payload ?? ''
    const statement = JSON.parse(Buffer.from(payload, 'base64').toString()) as {
      subject?: { digest?: { sha256?: string } }[]
    }
    return (statement.subject ?? []).map(s => `sha256:${String(s.digest?.sha256)}`)
  } catch {
    return []
  }
}

/** `oci://HOST/NS/CHART:TAG` -> `HOST/NS/CHART` (the subject and referrer image name). */
export function subjectOfRef(ref: string): string {
  return ref.replace(/^oci:\/\//, '').replace(/:[^:/]+$/, '')
}

/**
 * Attests one chart's result, right after it was published: a pushed chart always; with
 * skip-existing, a skipped version without a verifying attestation from this repository (one
 * with one is left alone). A failure becomes the chart's error, one line; the chart stays pushed.
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
      const existing = await attestor.findAttestation(name, result.digest, log).catch(error => {
        if (error instanceof TrustedRootUnavailable) attestor.unverifiable(error)
        else log(`Could not look up existing attestations (${describe(error)}); attesting`)
        return undefined
      })
      if (existing) {
        log(`Already attested by this repository (referrer ${existing}, verified); left alone`)
        return { ...result, attestation: { digest: existing, verified: true } }
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
