import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { PRIVATE_DIR_PREFIX } from './constants.js'
import { errorMessage } from './errors.js'
import { readState } from './state.js'

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

/**
 * The post step: deletes the job-private directory, which holds the registry login (Helm's
 * config file) and scratch space. It starts no process and only warns, so a cleanup problem
 * never fails a green job.
 */
export async function cleanup(): Promise<void> {
  const { privateDir } = readState()
  if (!privateDir) return
  if (!isPrivateDir(privateDir)) {
    core.warning(
      `Not removing ${privateDir}: it is not a ${PRIVATE_DIR_PREFIX}* directory directly under RUNNER_TEMP (${privateDirParent()}).`
    )
    return
  }
  try {
    await fs.rm(privateDir, { recursive: true, force: true })
    core.info(`Removed the job's registry login (${privateDir})`)
  } catch (error) {
    core.warning(`Could not remove ${privateDir}: ${errorMessage(error)}`)
  }
}
