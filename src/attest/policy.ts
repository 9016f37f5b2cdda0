/*
 * What makes a verified Sigstore bundle this repository's provenance of one chart digest: a pure
 * function of facts read from the bundle after its signature and certificate chain verified.
 */

export const SLSA_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1'
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com'

/**
 * The Sigstore instance that signed a bundle, told by its evidence: the public-good instance logs
 * every signature in Rekor; GitHub's instance (private repositories) has a timestamp authority
 * and no transparency log.
 */
export type Instance = 'public-good' | 'github'

/** What each instance's signatures must carry (@sigstore/verify thresholds), as gh requires. */
export const INSTANCE_RULES: Record<
  Instance,
  { tlogThreshold: number; ctlogThreshold: number; timestampThreshold: number }
> = {
  'public-good': { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 },
  github: { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 }
}

/** The instance a bundle claims, from its verification material. */
export function instanceOf(facts: { tlogEntries: number; timestamps: number }): Instance {
  return facts.tlogEntries > 0 ? 'public-good' : 'github'
}

export interface Expected {
  /** `https://github.com` (GITHUB_SERVER_URL). */
  serverUrl: string
  /** `OWNER/REPO`. */
  repository: string
  /** The chart digest the provenance must name. */
  digest: string
  /** The OIDC issuer the certificate must carry (GitHub Actions). */
  issuer?: string
  /**
   * The provenance's builder id: the workflow file this job runs (`SERVER/OWNER/REPO/.github/
   * workflows/FILE@REF`). When it is another repository's reusable workflow, this run's own
   * signatures carry that identity, so its workflows may sign too (still built from this repository).
   */
  builderId?: string
}

export interface Facts {
  /** The certificate's subject alternative name (the workflow identity). */
  identity?: string
  /** The certificate's OIDC issuer extension. */
  issuer?: string
  /**
   * The certificate's source repository (Fulcio OID 1.3.6.1.4.1.57264.1.12): the repository the
   * workflow ran for. It differs from the identity's when another repository calls one of this
   * repository's workflows as a reusable workflow.
   */
  sourceRepository?: string
  payloadType?: string
  /** The in-toto statement (the DSSE payload, parsed). */
  statement?: {
    predicateType?: unknown
    subject?: unknown
  }
  /** Verification material the bundle carries. */
  tlogEntries: number
  timestamps: number
}

export type Verdict = { ok: true; instance: Instance } | { ok: false; reason: string }

/** The certificate identity prefix of this repository's workflows. */
export function workflowPrefix(expected: Pick<Expected, 'serverUrl' | 'repository'>): string {
  return `${expected.serverUrl.replace(/\/$/, '')}/${expected.repository}/.github/workflows/`
}

/** The identity prefixes that may sign: this repository's workflows, and the builder's. */
export function signerPrefixes(expected: Expected): string[] {
  const own = workflowPrefix(expected)
  const builder = /^(https:\/\/[^/]+\/[^/]+\/[^/]+\/\.github\/workflows\/)[^/]+@/.exec(
    expected.builderId ?? ''
  )?.[1]
  return builder && builder.toLowerCase() !== own.toLowerCase() ? [own, builder] : [own]
}

/** Judges the facts of a bundle whose signature verified; the first failed rule is the reason. */
export function judge(facts: Facts, expected: Expected): Verdict {
  const instance = instanceOf(facts)
  const issuer = expected.issuer ?? GITHUB_ACTIONS_ISSUER
  const prefixes = signerPrefixes(expected)
  const identity = facts.identity?.toLowerCase() ?? ''
  if (!prefixes.some(prefix => identity.startsWith(prefix.toLowerCase()))) {
    const allowed = prefixes.map(prefix => `${prefix}…`).join(' or ')
    return { ok: false, reason: `signed by ${facts.identity ?? 'no identity'}, not ${allowed}` }
  }
  if (facts.issuer !== issuer) {
    return { ok: false, reason: `issuer ${facts.issuer ?? 'missing'}, not ${issuer}` }
  }
  const source = `${expected.serverUrl.replace(/\/$/, '')}/${expected.repository}`
  if (facts.sourceRepository?.toLowerCase() !== source.toLowerCase()) {
    return {
      ok: false,
      reason: `built from ${facts.sourceRepository ?? 'no repository'}, not ${source}`
    }
  }
  if (facts.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return { ok: false, reason: `payload type ${facts.payloadType ?? 'missing'} is not in-toto` }
  }
  if (facts.statement?.predicateType !== SLSA_PREDICATE_TYPE) {
    return { ok: false, reason: `predicate type is not ${SLSA_PREDICATE_TYPE}` }
  }
  const hex = expected.digest.replace(/^sha256:/, '')
  const subjects = Array.isArray(facts.statement.subject) ? facts.statement.subject : []
  const names = subjects.some(
    s => (s as { digest?: { sha256?: unknown } } | null)?.digest?.sha256 === hex
  )
  if (!names) return { ok: false, reason: `the subject is not ${expected.digest}` }
  const rules = INSTANCE_RULES[instance]
  if (facts.tlogEntries < rules.tlogThreshold || facts.timestamps < rules.timestampThreshold) {
    return { ok: false, reason: `no transparency-log entry or timestamp for ${instance}` }
  }
  return { ok: true, instance }
}
