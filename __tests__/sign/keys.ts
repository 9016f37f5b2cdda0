import * as openpgp from 'openpgp'

/** Test keys made by openpgp.js (gpg-made keys are the e2e suite's). */
export type KeyType = 'rsa' | 'ed25519' | 'nistP256'

export async function makeKey(
  type: KeyType,
  options: { passphrase?: string; date?: Date; keyExpirationTime?: number } = {}
): Promise<{ privateKey: string; publicKey: string; fingerprint: string }> {
  const algorithm =
    type === 'rsa'
      ? { type: 'rsa' as const, rsaBits: 2048 }
      : type === 'ed25519'
        ? { type: 'ecc' as const, curve: 'ed25519Legacy' as const }
        : { type: 'ecc' as const, curve: 'nistP256' as const }
  const { privateKey, publicKey } = await openpgp.generateKey({
    ...algorithm,
    userIDs: [{ name: 'CI', email: 'ci@example.com' }],
    format: 'armored',
    ...options
  })
  const key = await openpgp.readKey({ armoredKey: publicKey })
  return { privateKey, publicKey, fingerprint: key.getFingerprint().toUpperCase() }
}
