import { readFile } from 'node:fs/promises'
import type { TrustMaterial } from '@sigstore/verify'
import { errorMessage } from '../errors.js'
import { fetchTrustedRoot } from './trusted-root.js'
import {
  INSTANCE_RULES,
  instanceOf,
  judge,
  type Expected,
  type Instance,
  type Verdict
} from './policy.js'

/*
 * Verifies a Sigstore bundle the way gh and cosign do: the signature, the certificate chain to
 * the instance's trusted root, the transparency-log entry or timestamp the instance requires;
 * then judge() decides whether it is this repository's provenance of the chart. Trusted roots
 * come through TUF (trusted-root.ts, through the job's proxy), once per run and instance. The
 * Sigstore libraries load only here, when a run attests.
 */

/** The TUF repositories that publish each instance's trusted root. */
export const TUF_MIRRORS: Record<Instance, string> = {
  'public-good': 'https://tuf-repo-cdn.sigstore.dev',
  github: 'https://tuf-repo.github.com'
}

/** The trusted root could not be obtained: nothing can be verified against this instance. */
export class TrustedRootUnavailable extends Error {}

export class BundleVerifier {
  readonly #roots = new Map<Instance, Promise<TrustMaterial>>()
  readonly #mirrors: Record<Instance, string>

  constructor(mirrors: Record<Instance, string> = TUF_MIRRORS) {
    this.#mirrors = mirrors
  }

  /** The instance's trust material, fetched once (a failure is remembered for the run). */
  trustFor(instance: Instance): Promise<TrustMaterial> {
    let root = this.#roots.get(instance)
    if (!root) {
      root = loadTrustMaterial(this.#mirrors[instance]).catch((error: unknown) => {
        throw new TrustedRootUnavailable(
          `the trusted root of the ${instance} Sigstore instance could not be obtained from ${this.#mirrors[instance]} (${errorMessage(error)})`
        )
      })
      root.catch(() => undefined) // observed by every verify() that needs it
      this.#roots.set(instance, root)
    }
    return root
  }

  /**
   * Verifies `bundleJson` against `expected`. A bundle that does not verify is a verdict, not an
   * error; a trusted root that cannot be obtained throws TrustedRootUnavailable.
   */
  async verify(bundleJson: unknown, expected: Expected): Promise<Verdict> {
    const [{ bundleFromJSON }, { Verifier, toSignedEntity }] = await Promise.all([
      import('@sigstore/bundle'),
      import('@sigstore/verify')
    ])
    let bundle: ReturnType<typeof bundleFromJSON>
    try {
      bundle = bundleFromJSON(bundleJson)
    } catch (error) {
      return { ok: false, reason: `not a Sigstore bundle (${errorMessage(error)})` }
    }
    const material = bundle.verificationMaterial
    const counts = {
      tlogEntries: material.tlogEntries.length,
      timestamps: material.timestampVerificationData?.rfc3161Timestamps.length ?? 0
    }
    const instance = instanceOf(counts)
    const trust = await this.trustFor(instance)
    let signer
    try {
      signer = new Verifier(trust, INSTANCE_RULES[instance]).verify(toSignedEntity(bundle))
    } catch (error) {
      return { ok: false, reason: `its signature does not verify (${errorMessage(error)})` }
    }
    const envelope =
      bundle.content.$case === 'dsseEnvelope' ? bundle.content.dsseEnvelope : undefined
    let statement: Record<string, unknown> | undefined
    try {
      statement = envelope
        ? (JSON.parse(envelope.payload.toString()) as Record<string, unknown>)
        : undefined
    } catch {
      statement = undefined
    }
    return judge(
      {
        identity: signer.identity?.subjectAlternativeName,
        issuer: signer.identity?.extensions?.issuer,
        sourceRepository: extensionText(signer.identity?.oids, SOURCE_REPOSITORY_OID),
        payloadType: envelope?.payloadType,
        statement,
        // Rekor's integrated time counts as the public-good instance's timestamp.
        tlogEntries: counts.tlogEntries,
        timestamps: counts.timestamps + counts.tlogEntries
      },
      expected
    )
  }
}

/** Fulcio's source repository URI extension (a DER UTF8String). */
const SOURCE_REPOSITORY_OID = '1.3.6.1.4.1.57264.1.12'

/** The text of a certificate extension as @sigstore/verify lists it (value: DER UTF8String). */
export function extensionText(
  oids: { oid?: { id: number[] }; value: Uint8Array }[] | undefined,
  oid: string
): string | undefined {
  const value = oids?.find(o => o.oid?.id.join('.') === oid)?.value
  if (!value || value[0] !== 0x0c || value.length < 2) return undefined
  // DER length: one byte under 128, else 0x81/0x82 and one or two bytes of length.
  const width = value[1] < 0x80 ? 0 : value[1] - 0x80
  if (width > 2) return undefined
  const length =
    width === 0 ? value[1] : value.subarray(2, 2 + width).reduce((n, b) => n * 256 + b, 0)
  if (value.length !== 2 + width + length) return undefined
  return Buffer.from(value.subarray(2 + width)).toString('utf8')
}

/** The trust material of the instance whose TUF repository is `mirror`. */
async function loadTrustMaterial(mirror: string): Promise<TrustMaterial> {
  const [json, { TrustedRoot }, { toTrustMaterial }] = await Promise.all([
    fetchTrustedRoot(mirror),
    import('@sigstore/protobuf-specs'),
    import('@sigstore/verify')
  ])
  return toTrustMaterial(TrustedRoot.fromJSON(json))
}

/** The instance @actions/attest signs with: public-good for public repositories. */
export async function signingInstance(env: NodeJS.ProcessEnv = process.env): Promise<Instance> {
  try {
    const event = JSON.parse(await readFile(env.GITHUB_EVENT_PATH ?? '', 'utf8')) as {
      repository?: { visibility?: string }
    }
    return event.repository?.visibility === 'public' ? 'public-good' : 'github'
  } catch {
    return 'github'
  }
}
