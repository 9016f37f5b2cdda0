/**
 * curl as a contender for the installer: scripts/bench/download.sh, the shell way to install a
 * Helm release archive (download, verify against the published .sha256sum, extract).
 */
import { TEMP_ROOT } from '../lib/temp-root.js'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { archiveName } from '../../testbed/helm-mirror.js'
import { REPO_ROOT } from '../../testbed/paths.js'
import type { BenchContext } from './context.js'
import { timeScript, type Contender } from './contender.js'

const DOWNLOAD_SH = path.join(REPO_ROOT, 'scripts', 'bench', 'download.sh')

/** download.sh of Helm `helm` from the stack's mirror, in a new empty directory every run. */
export function curlContender(
  ctx: BenchContext,
  key: string,
  label: string,
  helm: string
): Contender {
  return {
    key,
    label,
    run: async () => {
      const dir = await mkdtemp(path.join(TEMP_ROOT, 'curl-'))
      const ms = await timeScript(
        key,
        DOWNLOAD_SH,
        [ctx.stack.mirror.url, archiveName(helm)],
        {
          PATH: '/usr/local/bin:/usr/bin:/bin',
          HOME: dir,
          LANG: 'C.UTF-8',
          // The mirror speaks HTTPS with the test CA, as the action's download does.
          CURL_CA_BUNDLE: ctx.stack.certs.caFile
        },
        dir
      )
      await rm(dir, { recursive: true, force: true })
      return { ms }
    }
  }
}
