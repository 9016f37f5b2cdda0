import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { UserError } from '../errors.js'
import { isInside } from '../runtime/paths.js'
import { HARD_LINK_FIX, hardLinkRefusal, isInGitDir } from './file-rules.js'

/*
 * A packaged chart input (.tgz) and the provenance file beside it. `helm push ARCHIVE` reads
 * `ARCHIVE.prov` when it exists and follows a link there, publishing what it points at as the
 * chart's provenance layer. So both files are held to the rules of chart files (a regular file in
 * the workspace, one hard link, no link out, nothing under .git), and Helm pushes copies from the
 * job-private directory: what it reads is what was checked.
 */

interface Checked {
  /** The archive (its real path, as discovery resolved it). */
  archive: string
  /** The real path of its .prov, when there is one. */
  prov?: string
}

/** Checks one file Helm would read, `file` as named; messages name it in the chart `display`. */
async function checkFile(file: string, workspace: string, display: string): Promise<string> {
  const refuse = (why: string, fix: string): never => {
    throw new UserError(`Chart "${display}" file ${path.basename(file)} ${why}: ${fix}`)
  }
  const stat = await fs.lstat(file)
  let real = file
  if (stat.isSymbolicLink()) {
    real = await fs
      .realpath(file)
      .catch(() => refuse('is a symbolic link to a file that does not exist', 'remove the link.'))
    if (!isInside(workspace, real)) {
      refuse(
        `is a symbolic link to ${real}, outside the workspace (${workspace})`,
        'nothing outside the workspace is published; copy the file into the workspace or remove the link.'
      )
    }
  }
  if (isInGitDir(workspace, real)) {
    refuse(
      `is ${real === file ? '' : 'a link to '}a file under .git (${real})`,
      'git metadata (and the checkout token in .git/config) is never published; remove it.'
    )
  }
  const target = real === file ? stat : await fs.stat(real)
  if (!target.isFile()) {
    refuse('is not a regular file', 'Helm cannot push it; point "charts" at a .tgz file.')
  }
  const hardLinks = hardLinkRefusal(target)
  if (hardLinks) refuse(`is ${hardLinks}`, HARD_LINK_FIX)
  return real
}

/** Checks the packaged chart `archive` (real path) and its .prov, before Helm or a registry sees them. */
export async function checkPackagedChart(
  archive: string,
  workspace: string,
  display: string
): Promise<Checked> {
  const root = await fs.realpath(workspace)
  await checkFile(archive, root, display)
  const prov = `${archive}.prov`
  const exists = await fs.lstat(prov).then(
    () => true,
    () => false
  )
  if (!exists) return { archive }
  return { archive, prov: await checkFile(prov, root, display) }
}

/**
 * The archive Helm pushes for a packaged chart input: a copy in `workDir` (job-private), with a
 * copy of its checked .prov beside it when there is one.
 */
export async function stagePackagedChart(
  archive: string,
  workspace: string,
  display: string,
  workDir: string
): Promise<string> {
  const checked = await checkPackagedChart(archive, workspace, display)
  const dir = await fs.mkdtemp(path.join(workDir, 'packaged-'))
  const copy = path.join(dir, path.basename(archive))
  await fs.copyFile(checked.archive, copy, fs.constants.COPYFILE_EXCL)
  // Helm 3.15+ turns the archive's mtime into the manifest's "created": keep the input's.
  const { atime, mtime } = await fs.stat(checked.archive)
  await fs.utimes(copy, atime, mtime)
  if (checked.prov) await fs.copyFile(checked.prov, `${copy}.prov`, fs.constants.COPYFILE_EXCL)
  return copy
}
