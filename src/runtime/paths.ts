import * as os from 'node:os'
import * as path from 'node:path'
import { PRIVATE_DIR_PREFIX } from '../constants.js'

/* Where things are: the workspace, RUNNER_TEMP, and whether one path lies inside another. */

/** The workspace: what the runner checked out, where charts are and nothing may leave. */
export function workspaceDir(): string {
  return process.env.GITHUB_WORKSPACE || process.cwd()
}

/**
 * True when `target` is `root` or inside it. `p` is the path flavour: the runner's own by default;
 * tests pass `path.win32` to check Windows paths (other drive, UNC share, `..\\`) on Linux.
 */
export function isInside(root: string, target: string, p: path.PlatformPath = path): boolean {
  const rel = p.relative(root, target)
  return !p.isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${p.sep}`)
}

/** The parent of job-private directories: RUNNER_TEMP, else the system temp directory. */
export function privateDirParent(): string {
  return process.env.RUNNER_TEMP || os.tmpdir()
}

/**
 * True when `dir` is a directory main could have made: a direct child of RUNNER_TEMP named
 * helm-ecr-publish-*. State can be edited by later steps; nothing else is ever deleted.
 */
export function isPrivateDir(dir: string): boolean {
  const resolved = path.resolve(dir)
  return (
    path.dirname(resolved) === path.resolve(privateDirParent()) &&
    path.basename(resolved).startsWith(PRIVATE_DIR_PREFIX) &&
    path.basename(resolved).length > PRIVATE_DIR_PREFIX.length
  )
}
