import * as core from '@actions/core'
import type { Predicate } from '@actions/attest'
import { UserError, errorMessage, oneLine } from '../errors.js'

/*
 * Signing: the SLSA v1 provenance statement of a chart digest, built from the workflow's OIDC
 * token and signed keyless through Sigstore by @actions/attest (Fulcio, then Rekor on the
 * public-good instance or the timestamp authority on GitHub's). The Sigstore libraries load only
 * when a run attests (they are most of the bundle's size).
 */

/** With attest on, the OIDC token must be available before anything is pushed. */
export function requireIdToken(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    throw new UserError(
      'Input "attest" is true but the job has no OIDC token to sign with: add "permissions: id-token: write" to the job (and "attestations: write" to also store attestations in GitHub), or set "attest: false".'
    )
  }
}

/** A failure after the chart was pushed: one line, ending with how to attest it later. */
export class AttestationError extends UserError {}

export function pushedButNot(what: string, detail: string, fix = ''): AttestationError {
  return new AttestationError(
    `${what} (${detail})${fix ? `: ${fix.replace(/\.$/, '')};` : ':'} the chart stays pushed, and a re-run with "skip-existing: true" attests it.`
  )
}

/** The messages of an error chain, outermost first (Sigstore wraps causes). */
export function describe(error: unknown): string {
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

/** A signed Sigstore bundle (JSON form, as stored in the registry and sent to GitHub). */
export interface SignedBundle {
  mediaType: string
  [key: string]: unknown
}

export class ProvenanceSigner {
  readonly #issuer?: string
  #predicate?: Promise<Predicate>

  /** `issuer`: @actions/attest derives it from GITHUB_SERVER_URL when omitted (tests only). */
  constructor(issuer?: string) {
    this.#issuer = issuer
    routeSigstoreLogs()
  }

  /** The SLSA predicate (from the OIDC token's claims), built once per run. */
  provenance(): Promise<Predicate> {
    this.#predicate ??= import('@actions/attest').then(lib =>
      lib.buildSLSAProvenancePredicate(this.#issuer)
    )
    return this.#predicate
  }

  /**
   * The workflow file this job runs (the provenance's builder id, from the OIDC token's
   * job_workflow_ref), or undefined when the provenance cannot be built (sign() then says why).
   */
  async builderId(): Promise<string | undefined> {
    try {
      const predicate = await this.provenance()
      const id = (predicate.params as { runDetails?: { builder?: { id?: unknown } } }).runDetails
        ?.builder?.id
      return typeof id === 'string' ? id : undefined
    } catch {
      return undefined
    }
  }

  /** Signs the provenance of `name@digest`. Throws AttestationError. */
  async sign(name: string, digest: string): Promise<SignedBundle> {
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
    // @actions/attest gives every Fulcio, Rekor and TSA call 3 retries (1 s, 2 s, 4 s apart) on
    // network errors, 5xx, 408 and 429, with a 10 s timeout: transient failures are retried there.
    const { attest } = await import('@actions/attest')
    const signed = await attest({
      subjects: [{ name, digest: { sha256: digest.replace(/^sha256:/, '') } }],
      predicateType: predicate.type,
      predicate: predicate.params,
      token: '',
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
    return signed.bundle as unknown as SignedBundle
  }
}

let sigstoreLogRouted = false
/** Routes Sigstore's HTTP log events (proc-log: retries, failed attempts) to the debug log. */
function routeSigstoreLogs(): void {
  if (sigstoreLogRouted) return
  sigstoreLogRouted = true
  process.on('log', (level: string, ...args: unknown[]) => {
    if (level === 'http') core.debug(oneLine(args.join(' ')))
  })
}
