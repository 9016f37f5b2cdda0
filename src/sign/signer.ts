import * as core from '@actions/core'
import { UserError } from '../errors.js'
import type { SignRequest } from '../chart/package.js'
import { signArchive } from './provenance.js'
import { loadSigningKey, type SigningKey, type SigningKeyInputs } from './signing-key.js'

/* "signing-key" for a run: the key unlocked and checked up front, what the log says about it,
   the Helm versions that cannot carry provenance, and the sign step packageChart runs. */

export interface Signing {
  /** 40 hex digits: the `signing-key-fingerprint` output and the summary's `gpg --export`. */
  fingerprint: string
  /** packageChart's sign step (chart/package.ts). */
  sign: (request: SignRequest) => Promise<string>
}

/** What the log says about a key, and the warnings for what it cannot promise. */
export function describeKey(key: SigningKey): { info: string; warnings: string[] } {
  const who = key.userId ? ` (${key.userId})` : ''
  const warnings: string[] = []
  if (!key.deterministic) {
    warnings.push(
      `"signing-key" is an ${key.algorithm} key, whose signatures differ on every run: a chart's provenance and so its digest change each time it is signed (a dry run's digest is not the push's). Use an RSA or Ed25519 key for reproducible digests.`
    )
  }
  if (!key.helm3CanVerify) {
    warnings.push(
      `"signing-key" is an ${key.algorithm} key, which Helm 3 (and Terraform's helm provider, built on Helm 3) cannot read: only Helm 4 can verify these charts. Use an RSA key (gpg --quick-gen-key 'CI <ci@example.com>' rsa4096 sign never) for Helm 3 consumers.`
    )
  }
  return {
    info: `Signing charts with OpenPGP key ${key.fingerprint}${who}, ${key.algorithm}`,
    warnings
  }
}

/** Unlocks "signing-key" (refusing an unusable one in one line) and logs what it is. */
export async function startSigning(
  inputs: SigningKeyInputs | undefined
): Promise<Signing | undefined> {
  if (!inputs) return undefined
  const key = await loadSigningKey(inputs)
  const { info, warnings } = describeKey(key)
  core.info(info)
  for (const warning of warnings) core.warning(warning)
  return { fingerprint: key.fingerprint, sign: request => signArchive(key, request) }
}

/** Helm 3.18.0 cannot pull any OCI chart that has a provenance layer (helm/helm#30890). */
export function checkHelmCanCarryProvenance(helmVersion: string): void {
  if (helmVersion.replace(/^v/, '') === '3.18.0') {
    throw new UserError(
      'Input "signing-key" cannot be used with Helm 3.18.0: it cannot pull any OCI chart that has a provenance layer (helm/helm#30890), so nobody could install the signed charts with it; set "helm-version" to 3.18.1 or later (or "3", "4").'
    )
  }
}
