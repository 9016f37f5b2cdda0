import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import { PRIVATE_DIR_PREFIX } from '../constants.js'
import { errorMessage } from '../errors.js'
import { isPrivateDir, privateDirParent } from './private-dir.js'
import { readState } from './state.js'

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
