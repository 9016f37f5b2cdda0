/**
 * A consistent copy of dist/ taken when a script starts, so a `npm run package` running at the
 * same time (it deletes and rewrites dist/) cannot break or mix up the runs being measured.
 */
import { existsSync, readFileSync } from 'node:fs'
import { cp, mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface DistSnapshot {
  dir: string
  main: string
  post: string
}

/** Files a copy of dist/ must hold: both entry points and every chunk main may load. */
function missingFiles(dist: string): string[] {
  const main = path.join(dist, 'index.js')
  const post = path.join(dist, 'post', 'index.js')
  if (!existsSync(main)) return [main]
  const chunks = [...readFileSync(main, 'utf8').matchAll(/__nccwpck_require__\.e\((\d+)\)/g)]
  const needed = [post, ...new Set(chunks.map(m => path.join(dist, `${m[1]}.index.js`)))]
  return needed.filter(f => !existsSync(f))
}

export async function snapshotDist(
  source: string,
  into: string,
  waitMs = 90_000
): Promise<DistSnapshot> {
  const deadline = Date.now() + waitMs
  for (;;) {
    await rm(into, { recursive: true, force: true })
    await mkdir(into, { recursive: true })
    try {
      await cp(source, into, { recursive: true })
    } catch {
      // dist/ changed while copying: try again
    }
    const missing = missingFiles(into)
    if (missing.length === 0) {
      return {
        dir: into,
        main: path.join(into, 'index.js'),
        post: path.join(into, 'post', 'index.js')
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `dist/ is incomplete (${missing.map(f => path.relative(into, f)).join(', ')} missing): run npm run package`
      )
    }
    await sleep(2000)
  }
}
