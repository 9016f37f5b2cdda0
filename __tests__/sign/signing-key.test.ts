import * as openpgp from 'openpgp'
import { describe, expect, it } from 'vitest'
import { UserError } from '../../src/errors.js'
import { loadSigningKey } from '../../src/sign/signing-key.js'
import { describeKey } from '../../src/sign/signer.js'
import { makeKey } from './keys.js'

const PASSPHRASE = 'correct horse battery staple'

async function refusal(armoredKey: string, passphrase?: string): Promise<UserError> {
  const error = await loadSigningKey({ armoredKey, passphrase }).then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(UserError)
  const message = (error as UserError).message
  expect(message).not.toContain('\n')
  if (passphrase) expect(message).not.toContain(passphrase)
  expect(message).not.toContain(armoredKey.split('\n')[2])
  return error as UserError
}

describe('loadSigningKey refuses, in one line', () => {
  it('garbage', async () => {
    expect((await refusal('not a key at all')).message).toMatch(
      /^Input "signing-key" is not an ASCII-armored OpenPGP secret key: export it with "gpg --armor --export-secret-keys KEYID"/
    )
  })

  it('a damaged armored block', async () => {
    const { privateKey } = await makeKey('ed25519')
    const damaged = privateKey.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!')
    expect((await refusal(damaged)).message).toMatch(
      /^Input "signing-key" is not a readable OpenPGP secret key \(/
    )
  })

  it('a public key', async () => {
    const { publicKey } = await makeKey('ed25519')
    expect((await refusal(publicKey)).message).toMatch(
      /^Input "signing-key" is a public key: it needs the secret key/
    )
  })

  it('a protected key without "signing-passphrase"', async () => {
    const { privateKey } = await makeKey('ed25519', { passphrase: PASSPHRASE })
    expect((await refusal(privateKey)).message).toBe(
      'Input "signing-key" is protected by a passphrase and "signing-passphrase" is empty: set "signing-passphrase" from a secret.'
    )
  })

  it('a wrong passphrase', async () => {
    const { privateKey } = await makeKey('ed25519', { passphrase: PASSPHRASE })
    expect((await refusal(privateKey, 'wrong horse')).message).toBe(
      'Input "signing-passphrase" does not unlock "signing-key": store the passphrase of this key in the secret.'
    )
  })

  it('an expired key, naming the day and the fix', async () => {
    const { privateKey } = await makeKey('ed25519', {
      date: new Date('2020-01-01T00:00:00Z'),
      keyExpirationTime: 86400
    })
    expect((await refusal(privateKey)).message).toMatch(
      /^Input "signing-key" \([0-9A-F]{40}\) expired on 2020-01-02: extend it with "gpg --quick-set-expire [0-9A-F]{40} 1y"/
    )
  })

  it('a revoked key', async () => {
    const { privateKey } = await makeKey('ed25519')
    const key = await openpgp.readPrivateKey({ armoredKey: privateKey })
    const revoked = (await key.revoke()).armor()
    expect((await refusal(revoked)).message).toMatch(
      /^Input "signing-key" \([0-9A-F]{40}\) is revoked: create a new signing key/
    )
  })
})

describe('loadSigningKey accepts', () => {
  it('a protected key with its passphrase', async () => {
    const { privateKey, fingerprint } = await makeKey('ed25519', { passphrase: PASSPHRASE })
    const key = await loadSigningKey({ armoredKey: privateKey, passphrase: PASSPHRASE })
    expect(key.fingerprint).toBe(fingerprint)
    expect(key.userId).toBe('CI <ci@example.com>')
  })

  it('an unprotected key given a passphrase anyway', async () => {
    const { privateKey } = await makeKey('ed25519')
    await expect(
      loadSigningKey({ armoredKey: privateKey, passphrase: 'unused' })
    ).resolves.toMatchObject({ algorithm: 'ed25519' })
  })

  it.each([
    ['rsa', 'rsa2048', true, true],
    ['ed25519', 'ed25519', true, false],
    ['nistP256', 'nistP256', false, true]
  ] as const)(
    'a %s key: deterministic and Helm 3 readable as known',
    async (type, algorithm, deterministic, helm3) => {
      const { privateKey } = await makeKey(type)
      const key = await loadSigningKey({ armoredKey: privateKey })
      expect(key).toMatchObject({ algorithm, deterministic, helm3CanVerify: helm3 })
      const { warnings } = describeKey(key)
      expect(warnings.some(w => /differ on every run/.test(w))).toBe(!deterministic)
      expect(warnings.some(w => /Helm 3/.test(w))).toBe(!helm3)
    }
  )
})
