import * as fs from 'node:fs/promises'
import { PRIVATE_DIR_PREFIX } from '../constants.js'
import { errorMessage } from '../errors.js'
import { info, warning } from './log.js'
import { isPrivateDir, privateDirParent } from './paths.js'
import { readState } from './state.js'

/**
 * The post step: deletes the job-private directory, which holds the registry login (Helm's
 * config file) and scratch space. It starts no process and only warns, so a cleanup problem
 * never fails a green job. Node's built-ins only (no @actions/core): the post bundle is a few
 * kilobytes and starts about as fast as `node -e 0`.
 */
export async function cleanup(): Promise<void> {
  const { privateDir } = readState()
  if (!privateDir) return
  if (!isPrivateDir(privateDir)) {
    warning(
      `Not removing ${privateDir}: it is not a ${PRIVATE_DIR_PREFIX}* directory directly under RUNNER_TEMP (${privateDirParent()}).`
    )
    return
  }
  try {
    await fs.rm(privateDir, { recursive: true, force: true })
    info(`Removed the job's registry login (${privateDir})`)
  } catch (error) {
    warning(`Could not remove ${privateDir}: ${errorMessage(error)}`)
  }
}
