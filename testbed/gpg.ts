/**
 * OpenPGP keys made by the machine's GnuPG in a private GNUPGHOME, as a team makes its CI signing
 * key (docs/signing.md): for the signing e2e and secrets suites. The agent is stopped on cleanup.
 */
import { execFileSync } from 'node:child_process'
import { chmod, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir } from './paths.js'

export interface GpgKeySpec {
  uid: string
  /** e.g. rsa2048, ed25519, nistp256 */
  algo: string
  /** sign, cert, encr (default sign) */
  usage?: string
  /** never (default), or e.g. 1d */
  expire?: string
  passphrase?: string
  /** gpg --faked-system-time, e.g. 20200101T000000: makes a key that expired long ago. */
  madeAt?: string
}

export interface GpgHome {
  dir: string
  /** Makes a key; returns its fingerprint. */
  generate(spec: GpgKeySpec): string
  /** `gpg --armor --export-secret-keys` (keeps the key's passphrase protection). */
  exportSecret(fingerprint: string, passphrase?: string): string
  /** `gpg --armor --export`. */
  exportPublicArmored(fingerprint: string): string
  /** `gpg --export FPR > FILE`: the binary keyring Helm's --keyring takes. */
  exportKeyring(fingerprint: string, file: string): Promise<string>
  /** Imports the key's own revocation certificate (gpg wrote it when it made the key). */
  revoke(fingerprint: string): Promise<void>
  cleanup(): Promise<void>
}

export async function gpgHome(): Promise<GpgHome> {
  const dir = await makeTempDir('gnupg')
  await chmod(dir, 0o700)
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', GNUPGHOME: dir, LC_ALL: 'C' }
  const gpg = (args: string[], input = ''): Buffer =>
    execFileSync('gpg', ['--batch', '--yes', '--pinentry-mode', 'loopback', ...args], {
      env,
      input,
      stdio: ['pipe', 'pipe', 'pipe']
    })
  // The passphrase (possibly empty: no protection) goes on stdin, never in argv.
  const withPassphrase = (_passphrase?: string) => ['--passphrase-fd', '0']
  return {
    dir,
    generate(spec) {
      const faked = spec.madeAt ? ['--faked-system-time', spec.madeAt] : []
      gpg(
        [
          ...faked,
          ...withPassphrase(spec.passphrase),
          '--quick-gen-key',
          spec.uid,
          spec.algo,
          spec.usage ?? 'sign',
          spec.expire ?? 'never'
        ],
        spec.passphrase ?? ''
      )
      const listing = gpg(['--with-colons', '--list-keys', spec.uid]).toString()
      const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1]
      if (!fpr) throw new Error(`gpg made no key for ${spec.uid}`)
      return fpr
    },
    exportSecret(fingerprint, passphrase) {
      return gpg(
        [...withPassphrase(passphrase), '--armor', '--export-secret-keys', fingerprint],
        passphrase ?? ''
      ).toString()
    },
    exportPublicArmored(fingerprint) {
      return gpg(['--armor', '--export', fingerprint]).toString()
    },
    async exportKeyring(fingerprint, file) {
      await writeFile(file, gpg(['--export', fingerprint]))
      return file
    },
    async revoke(fingerprint) {
      const certificate = path.join(dir, 'openpgp-revocs.d', `${fingerprint}.rev`)
      const text = (await readFile(certificate, 'utf8')).replace(/^:-----BEGIN/m, '-----BEGIN')
      gpg(['--import'], text)
    },
    async cleanup() {
      try {
        execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env, stdio: 'ignore' })
      } catch {
        // no agent
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}
