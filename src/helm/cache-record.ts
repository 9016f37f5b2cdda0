import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { UserError } from '../errors.js'

/*
 * The SHA-256 of the archive a cached Helm came from, recorded beside the executable in the tool
 * cache when this action verified it. A later run with "helm-sha256" checks its pin against the
 * record instead of trusting whatever sits in the cache: a Helm some other tool cached (no record)
 * is downloaded and verified again; a record that names another archive fails.
 */

export const RECORD_FILE = 'helm-archive.sha256'

/** Writes the record into `dir` (the directory that becomes the cached tool). */
export async function writeArchiveRecord(dir: string, sha256: string, archive: string) {
  await fs.writeFile(path.join(dir, RECORD_FILE), `${sha256}  ${archive}\n`, { mode: 0o644 })
}

/** The recorded archive SHA-256 of the cached Helm in `dir`, or undefined (none, unreadable). */
export async function readArchiveRecord(dir: string): Promise<string | undefined> {
  const text = await fs.readFile(path.join(dir, RECORD_FILE), 'utf8').catch(() => '')
  return /^([a-f0-9]{64})\s/.exec(text)?.[1]
}

/**
 * Whether the cached Helm in `dir` may be used under the pin: true when its record matches,
 * false when it has none (download and verify); a different record fails in one line.
 */
export async function cacheMatchesPin(dir: string, version: string, pin: string): Promise<boolean> {
  const recorded = await readArchiveRecord(dir)
  if (recorded === undefined) return false
  if (recorded !== pin) {
    throw new UserError(
      `Helm ${version} in the tool cache (${dir}) was installed from an archive with sha256 ${recorded}, not the "helm-sha256" pin ${pin}: check "helm-sha256" against the archive's .sha256sum on get.helm.sh, or clear the runner's tool cache.`
    )
  }
  return true
}
