/**
 * One temp root for everything a script run creates (stack data, certificates, workspaces, run
 * dirs), removed when the process exits. Import this module first: the e2e support modules read
 * HELM_ECR_E2E_TMP when they load.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { E2E_TMP_ENV } from '../../testbed/paths.js'

export const TEMP_ROOT = mkdtempSync(path.join(tmpdir(), 'helm-ecr-script-'))
process.env[E2E_TMP_ENV] = TEMP_ROOT
process.once('exit', () => {
  if (process.env.KEEP_E2E_DIRS === '1') {
    console.error(`KEEP_E2E_DIRS=1: temp dirs kept in ${TEMP_ROOT}`)
    return
  }
  rmSync(TEMP_ROOT, { recursive: true, force: true })
})
