import * as path from 'node:path'

/* Where things are: the workspace, and whether one path lies inside another. */

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
