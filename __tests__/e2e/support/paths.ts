import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Absolute path of the repository root (this file lives in __tests__/e2e/support/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

/** The repository's gitignored cache directory. */
export const CACHE_DIR = path.join(REPO_ROOT, '.cache')

/** Creates a fresh temporary directory under the OS temp dir. */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `helm-ecr-e2e-${prefix}-`))
}
