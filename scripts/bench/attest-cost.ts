/**
 * What attesting one chart costs, before and after a change: the bundled action pushes and
 * attests one new chart version through the ECR emulator against the Sigstore fakes, two bundles
 * alternated (BASE: a dist/ directory of the version to compare with, e.g. `git archive main
 * dist | tar -x -C /tmp/base`; the other is this checkout's dist/). Prints the medians.
 *
 *   BASE=/tmp/base/dist ITERATIONS=7 npx tsx scripts/bench/attest-cost.ts
 */
import { cp, rm, symlink } from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { withHosts } from '../../testbed/hosts.js'
import { REPO_ROOT } from '../../testbed/paths.js'
import { runAction } from '../../testbed/runner.js'
import { createRepository, workspaceWith } from '../../testbed/scenario.js'
import { startSigstoreWorld } from '../../testbed/sigstore-world.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'
import { withStack } from '../lib/with-stack.js'

const HELM = '3.18.0'
const base = process.env.BASE
const iterations = Number(process.env.ITERATIONS ?? 7)
if (!base) throw new Error('BASE=<dist directory to compare with> is required')

const dist = path.join(REPO_ROOT, 'dist')
const parked = path.join(REPO_ROOT, '.dist-under-test')

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

process.exitCode = await withStack('attest-cost', { helmVersions: [HELM] }, async stack => {
  const [world, toolCache] = await Promise.all([
    startSigstoreWorld({ certs: stack.certs }),
    prewarmedToolCache([HELM])
  ])
  await rm(parked, { recursive: true, force: true })
  await cp(dist, parked, { recursive: true })
  const times: Record<'base' | 'head', number[]> = { base: [], head: [] }
  try {
    await createRepository(stack, 'att-cost')
    for (let i = 0; i <= iterations; i++) {
      for (const which of ['base', 'head'] as const) {
        await rm(dist, { recursive: true, force: true })
        await symlink(which === 'base' ? base : parked, dist)
        const workspace = await workspaceWith([{ name: 'att-cost', version: `1.0.${i}-${which}` }])
        const started = performance.now()
        const result = await runAction({
          workspace,
          toolCache,
          env: { ...stack.actionEnv, ...world.env },
          wrapCommand: withHosts(world.hosts()),
          inputs: { 'helm-version': HELM, attest: 'true', charts: 'charts/att-cost' }
        })
        const seconds = (performance.now() - started) / 1000
        if (result.exitCode !== 0) throw new Error(`${which} run failed:\n${result.stdout}`)
        if (i > 0) times[which].push(seconds) // the first round warms up
      }
    }
  } finally {
    await rm(dist, { recursive: true, force: true })
    await cp(parked, dist, { recursive: true })
    await rm(parked, { recursive: true, force: true })
    await world.stop()
  }
  const b = median(times.base)
  const h = median(times.head)
  console.log(
    `one chart, attest: base median ${b.toFixed(3)} s, head median ${h.toFixed(3)} s, difference ${(h - b).toFixed(3)} s (n=${iterations} each, alternated)`
  )
  console.log(JSON.stringify(times))
})
