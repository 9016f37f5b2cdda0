import { mkdirSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Absolute path of the repository root (this file lives in testbed/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The repository's gitignored cache directory. */
export const CACHE_DIR = path.join(REPO_ROOT, '.cache')

/**
 * Set by the vitest global setup to a directory it removes at teardown, so temp dirs of test
 * workers (which may not run exit handlers) never pile up in /tmp.
 */
export const E2E_TMP_ENV = 'HELM_ECR_E2E_TMP'

/**
 * The bundle the e2e run tests: the global setup builds it from src/ into the run's temporary
 * directory and names it here (workers inherit the variable). Outside a vitest run (demo, bench)
 * it is the committed dist/. Set it yourself to test another build, e.g. the committed dist/.
 */
export const E2E_DIST_ENV = 'HELM_ECR_E2E_DIST'

export function bundleDir(): string {
  return process.env[E2E_DIST_ENV] || path.join(REPO_ROOT, 'dist')
}

/** Where temp dirs go: the global setup's per-run directory, else the OS temp dir. */
export function tempRoot(): string {
  const root = process.env[E2E_TMP_ENV]
  if (root) {
    mkdirSync(root, { recursive: true })
    return root
  }
  return tmpdir()
}

/** Creates a fresh temporary directory (helm-ecr-e2e-<prefix>-XXXXXX) under tempRoot(). */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tempRoot(), `helm-ecr-e2e-${prefix}-`))
}
