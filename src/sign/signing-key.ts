import type { Key, PrivateKey, Subkey } from 'openpgp'
import { UserError } from '../errors.js'

/*
 * The "signing-key" input unlocked and checked, in process (openpgp.js, loaded only when a run
 * signs). Every way the key cannot make a signature Helm accepts is refused here, in one line,
 * before anything is pushed. The armored text and the passphrase go no further than this file.
 */

type OpenPgp = typeof import('openpgp')

/** Loads openpgp.js on first use (about 1.2 MB that a run without "signing-key" never parses). */
let library: Promise<OpenPgp> | undefined
export function openpgp(): Promise<OpenPgp> {
  library ??= import('openpgp')
  return library
}

export interface SigningKeyInputs {
  armoredKey: string
  passphrase?: string
}

/** An unlocked key that can sign now, with what the log and the summary say about it. */
export interface SigningKey {
  key: PrivateKey
  /** 40 upper-case hex digits (v4), as `gpg --list-keys` prints it. */
  fingerprint: string
  /** The primary user ID, e.g. `CI <ci@example.com>`. */
  userId: string
  /** e.g. `rsa4096`, `ed25519`, `nistp256`. */
  algorithm: string
  /** The same message and date give the same signature bytes (RSA PKCS#1 v1.5, EdDSA on a v4 key). */
  deterministic: boolean
  /** Helm 3 (golang.org/x/crypto/openpgp) reads v4 RSA, DSA and NIST-curve keys only (no EdDSA). */
  helm3CanVerify: boolean
  /** The newest creation time of the key's own packets: a signature may not be older. */
  notBefore: Date
}

const KEY_FIX =
  'export it with "gpg --armor --export-secret-keys KEYID" and store the whole block as a secret'

function refuse(message: string): never {
  throw new UserError(message)
}

function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(
    /^Error \w+ \w+ key: /i,
    ''
  )
}

async function readArmored(pgp: OpenPgp, armoredKey: string): Promise<Key> {
  if (!/-----BEGIN PGP (PRIVATE|PUBLIC) KEY BLOCK-----/.test(armoredKey)) {
    refuse(`Input "signing-key" is not an ASCII-armored OpenPGP secret key: ${KEY_FIX}.`)
  }
  try {
    return await pgp.readKey({ armoredKey })
  } catch (error) {
    return refuse(
      `Input "signing-key" is not a readable OpenPGP secret key (${reason(error)}): ${KEY_FIX}.`
    )
  }
}

async function unlock(pgp: OpenPgp, key: PrivateKey, passphrase?: string): Promise<PrivateKey> {
  if (key.isDecrypted()) return key
  if (!passphrase) {
    refuse(
      'Input "signing-key" is protected by a passphrase and "signing-passphrase" is empty: set "signing-passphrase" from a secret.'
    )
  }
  try {
    return await pgp.decryptKey({ privateKey: key, passphrase })
  } catch {
    return refuse(
      'Input "signing-passphrase" does not unlock "signing-key": store the passphrase of this key in the secret.'
    )
  }
}

function algorithmName(key: Key | Subkey): string {
  const { algorithm, bits, curve } = key.getAlgorithmInfo()
  if (algorithm.startsWith('rsa')) return `rsa${bits ?? ''}`
  if (algorithm === 'eddsaLegacy') return 'ed25519'
  return curve && algorithm !== 'ed25519' && algorithm !== 'ed448' ? String(curve) : algorithm
}

const DETERMINISTIC = new Set(['rsaEncryptSign', 'rsaSign', 'eddsaLegacy', 'ed25519', 'ed448'])
const HELM3_ALGORITHMS = new Set(['rsaEncryptSign', 'rsaSign', 'rsaEncrypt', 'dsa', 'elgamal'])
const HELM3_CURVES = new Set(['nistP256', 'nistP384', 'nistP521'])

/** golang.org/x/crypto/openpgp skips a whole key in the keyring when any of its packets is unknown. */
function helm3CanRead(key: Key): boolean {
  return [key, ...key.subkeys].every(k => {
    const { algorithm, curve } = k.getAlgorithmInfo()
    const known =
      HELM3_ALGORITHMS.has(algorithm) ||
      ((algorithm === 'ecdsa' || algorithm === 'ecdh') && HELM3_CURVES.has(String(curve)))
    return k.keyPacket.version === 4 && known
  })
}

/** The newest creation time among the key's packets and self-signatures. */
function newestSelfTime(key: Key): Date {
  const times = [
    key.keyPacket.created,
    ...key.users.flatMap(u => u.selfCertifications.map(s => s.created)),
    ...key.subkeys.flatMap(k => [k.keyPacket.created, ...k.bindingSignatures.map(s => s.created)])
  ]
  return new Date(Math.max(...times.map(t => t?.getTime() ?? 0)))
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10)
}

/** Why a key that unlocked cannot sign now: revoked, expired, or no key with the signing flag. */
async function refuseUnusable(key: PrivateKey, now: Date, error: unknown): Promise<never> {
  const id = key.getFingerprint().toUpperCase()
  if (await key.isRevoked(undefined, undefined, now)) {
    refuse(
      `Input "signing-key" (${id}) is revoked: create a new signing key and store it in the secret.`
    )
  }
  const expires = await key.getExpirationTime().catch(() => null)
  if (expires instanceof Date && expires <= now) {
    refuse(
      `Input "signing-key" (${id}) expired on ${day(expires)}: extend it with "gpg --quick-set-expire ${id} 1y", then update the secret and give consumers the new public keyring.`
    )
  }
  return refuse(
    `Input "signing-key" (${id}) has no key that can sign now (${reason(error)}): use a key with the sign capability, e.g. "gpg --quick-gen-key 'CI <ci@example.com>' rsa4096 sign".`
  )
}

/**
 * Reads, unlocks and checks "signing-key": an armored secret key, unlocked by "signing-passphrase"
 * when protected, neither revoked nor expired at `now`, with a (sub)key that can sign.
 */
export async function loadSigningKey(
  inputs: SigningKeyInputs,
  now: Date = new Date()
): Promise<SigningKey> {
  const pgp = await openpgp()
  const read = await readArmored(pgp, inputs.armoredKey)
  if (!read.isPrivate()) {
    refuse(
      `Input "signing-key" is a public key: it needs the secret key; ${KEY_FIX} (the public key is what consumers put in their keyring).`
    )
  }
  const key = await unlock(pgp, read, inputs.passphrase)
  let signing: PrivateKey | Subkey
  try {
    signing = await key.getSigningKey(undefined, now)
  } catch (error) {
    return refuseUnusable(key, now, error)
  }
  const { algorithm } = signing.getAlgorithmInfo()
  const v4 = signing.keyPacket.version === 4
  let userId = ''
  try {
    userId = (await key.getPrimaryUser(now)).user.userID?.userID ?? ''
  } catch {
    userId = key.getUserIDs()[0] ?? ''
  }
  return {
    key,
    fingerprint: key.getFingerprint().toUpperCase(),
    userId,
    algorithm: algorithmName(signing),
    deterministic: v4 && DETERMINISTIC.has(algorithm),
    helm3CanVerify: helm3CanRead(key),
    notBefore: newestSelfTime(key)
  }
}
