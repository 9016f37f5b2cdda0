import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { PRIVATE_DIR_PREFIX } from '../constants.js'
import { saveState } from './state.js'

/* The job-private directory: under RUNNER_TEMP, readable by this job only, deleted by the post step. */

/** The parent of job-private directories: RUNNER_TEMP, else the system temp directory. */
export function privateDirParent(): string {
  return process.env.RUNNER_TEMP || os.tmpdir()
}

/**
 * True when `dir` is a directory main could have made: a direct child of RUNNER_TEMP named
 * helm-ecr-publish-*. State files can be edited by later steps; nothing else is ever deleted.
 */
export function isPrivateDir(dir: string): boolean {
  const resolved = path.resolve(dir)
  return (
    path.dirname(resolved) === path.resolve(privateDirParent()) &&
    path.basename(resolved).startsWith(PRIVATE_DIR_PREFIX) &&
    path.basename(resolved).length > PRIVATE_DIR_PREFIX.length
  )
}

export interface PrivateDir {
  /** The directory itself (scratch space for packages and pulls lives here too). */
  root: string
  /** HELM_REGISTRY_CONFIG: where Helm stores the login. */
  registryConfig: string
  /** DOCKER_CONFIG for Helm: an empty directory, so no Docker credential store is found. */
  dockerConfig: string
}

/** Makes the job-private directory and tells the post step to delete it. */
export async function makePrivateDir(): Promise<PrivateDir> {
  const base = privateDirParent()
  await fs.mkdir(base, { recursive: true })
  const root = await fs.mkdtemp(path.join(base, PRIVATE_DIR_PREFIX))
  await fs.chmod(root, 0o700)
  saveState({ privateDir: root })
  const registryConfig = path.join(root, 'registry', 'config.json')
  const dockerConfig = path.join(root, 'docker')
  await fs.mkdir(path.dirname(registryConfig), { recursive: true, mode: 0o700 })
  await fs.mkdir(dockerConfig, { recursive: true, mode: 0o700 })
  return { root, registryConfig, dockerConfig }
}
