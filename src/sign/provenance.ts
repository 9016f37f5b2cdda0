import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { parse } from 'yaml'
import type { SignRequest } from '../chart/package.js'
import { archiveChartYaml, provenanceMessage } from './message.js'
import { openpgp, type SigningKey } from './signing-key.js'

/*
 * Helm's provenance file beside a chart archive: `helm push X.tgz` pushes `X.tgz.prov` as the
 * provenance layer (Helm 3.8+ and 4), and `helm pull/install --verify --keyring` checks it.
 * Deterministic: the signature's creation time is the source epoch (or, for a key made after
 * the commit, the key's own newest self-signature), SHA-512 as Helm's signer uses, and no
 * random salt notation, so one commit and one key give one .prov and one manifest digest.
 */

/** The signature's creation time: the epoch, but never before the key itself (verifiers refuse that). */
export function signatureDate(key: SigningKey, epoch: number | undefined, now = new Date()): Date {
  const wanted = epoch === undefined ? now : new Date(epoch * 1000)
  return wanted < key.notBefore ? key.notBefore : wanted
}

/** The clear-signed provenance of `archive` (named `fileName` in it), as Helm writes it. */
export async function signProvenance(
  key: SigningKey,
  archive: Buffer,
  fileName: string,
  date: Date
): Promise<string> {
  const pgp = await openpgp()
  const text = provenanceMessage(await archiveChartYaml(archive), fileName, archive)
  const message = await pgp.createCleartextMessage({ text })
  const signed = await pgp.sign({
    message,
    signingKeys: key.key,
    date,
    config: {
      nonDeterministicSignaturesViaNotation: false,
      preferredHashAlgorithm: pgp.enums.hash.sha512
    }
  })
  // openpgp.js writes the text with CRLF (its canonical form); Helm writes LF. The signature is
  // over the canonical text either way, so LF verifies the same and reads like Helm's file.
  return signed.replace(/\r\n/g, '\n')
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false
  )
}

/** Whether an archive is pushed with provenance (a `.prov` beside it). */
export function hasProvenance(archive: string): Promise<boolean> {
  return exists(`${archive}.prov`)
}

/**
 * Signs one archive: writes `ARCHIVE.prov` and returns the archive to push. A packaged .tgz input
 * with a .prov beside it is pushed as it is; one without is copied into the job-private directory
 * as CHART-VERSION.tgz (the name `helm pull` gives it, which the .prov names) and signed there.
 */
export async function signArchive(key: SigningKey, request: SignRequest): Promise<string> {
  if (request.packaged && (await hasProvenance(request.archive))) return request.archive
  const data = await fs.readFile(request.archive)
  let target = request.archive
  if (request.packaged) {
    const { name, version } = parse(await archiveChartYaml(data)) as Record<string, unknown>
    const dir = await fs.mkdtemp(path.join(request.workDir, 'signed-'))
    target = path.join(dir, `${String(name)}-${String(version)}.tgz`)
    await fs.writeFile(target, data)
    const { mtime } = await fs.stat(request.archive)
    await fs.utimes(target, mtime, mtime) // Helm 3.15+ turns it into the manifest's "created"
  }
  const date = signatureDate(key, request.epoch)
  const prov = await signProvenance(key, data, path.basename(target), date)
  await fs.writeFile(`${target}.prov`, prov)
  return target
}

/** The published version's provenance against this run's: the same file, none, or another. */
export type PublishedProvenance = 'same' | 'none' | 'other'

export async function comparePublishedProvenance(
  archive: string,
  published: string | undefined
): Promise<PublishedProvenance> {
  if (!published) return 'none'
  const [ours, theirs] = await Promise.all([
    fs.readFile(`${archive}.prov`).catch(() => undefined),
    fs.readFile(published)
  ])
  return ours?.equals(theirs) ? 'same' : 'other'
}

/** What the skip log adds when a signing run meets a version published without its provenance. */
export function provenanceNote(state: PublishedProvenance | undefined): string {
  if (state === 'none') return '; it stays unsigned (it was published without provenance)'
  if (state === 'other') return "; it keeps the provenance it was published with, not this run's"
  return ''
}
