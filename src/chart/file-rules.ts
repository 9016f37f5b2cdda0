import type { Stats } from 'node:fs'
import * as path from 'node:path'

/*
 * Rules every file Helm may read is held to, beside the walk (chart-files.ts) and for packaged
 * archives (packaged.ts). A regular file with a second hard link may be a file from outside the
 * workspace that someone linked in (hard links cross directories, and nothing in the tree shows
 * where the other name is), so it is refused like a symbolic link out.
 */

/** Why a regular file cannot be read into a chart, or undefined when it can. */
export function hardLinkRefusal(stat: Stats): string | undefined {
  if (!stat.isFile() || stat.nlink <= 1) return undefined
  return `a regular file with ${stat.nlink} hard links, which may be a file from outside the workspace`
}

/** The fix that goes with hardLinkRefusal. */
export const HARD_LINK_FIX = 'copy the file instead of hard-linking it (cp without -l).'

/** Whether `target` (real path) lies in a `.git` directory below the real workspace `root`. */
export function isInGitDir(root: string, target: string): boolean {
  return path.relative(root, target).split(path.sep).includes('.git')
}
