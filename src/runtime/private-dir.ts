import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { PRIVATE_DIR_PREFIX, State } from '../constants.js'
import { privateDirParent } from './paths.js'

/* The job-private directory: under RUNNER_TEMP, readable by this job only, deleted by the post step. */

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
  core.saveState(State.PrivateDir, root) // the post step reads it back (state.ts)
  const registryConfig = path.join(root, 'registry', 'config.json')
  const dockerConfig = path.join(root, 'docker')
  await fs.mkdir(path.dirname(registryConfig), { recursive: true, mode: 0o700 })
  await fs.mkdir(dockerConfig, { recursive: true, mode: 0o700 })
  return { root, registryConfig, dockerConfig }
}
