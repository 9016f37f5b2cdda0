/**
 * npm run bench: the bundled action against what users do today, on the end-to-end stack (ECR
 * emulator, real distribution registry, real Helm), contenders alternated in one run.
 *
 *   BENCH_ITERATIONS=7        measured iterations per contender (after one warm-up each)
 *   BENCH_HELM=4.1.4,3.18.0   Helm versions of the one-chart comparison (the first is used for all)
 *   BENCH_STARTUP_SAMPLES=15  samples per Node binary for the startup time
 *   BENCH_AWS=/usr/bin/aws    the aws CLI of the shell pipeline (Debian's awscli package)
 *   BENCH_ONLY=one,cold,many,rerun,startup,trace   the sections to run (default: all)
 *   npm run bench -- --readme writes the Markdown table into docs/benchmarks.md (bench markers)
 *
 * The parts live in scripts/bench/: the contenders (action.ts, shell.ts with publish.sh, curl.ts
 * with download.sh; contender.ts alternates them), startup.ts, trace.ts, scenarios.ts (what is
 * measured side by side) and report.ts.
 */
import { TEMP_ROOT } from './lib/temp-root.js'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { REPO_ROOT } from '../testbed/paths.js'
import { actionNode } from '../testbed/runner.js'
import type { Knobs } from './bench/context.js'
import { report, writeReadme } from './bench/report.js'
import { runScenarios } from './bench/scenarios.js'
import { aptTool, distCommit, progress } from './bench/util.js'
import { snapshotDist } from './lib/dist-snapshot.js'
import { withStack } from './lib/with-stack.js'

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`)
  return n
}

const knobs: Knobs = {
  iterations: positiveInt('BENCH_ITERATIONS', 7),
  startupSamples: positiveInt('BENCH_STARTUP_SAMPLES', 15),
  helms: (process.env.BENCH_HELM ?? '4.1.4,3.18.0')
    .split(',')
    .map(v => v.trim().replace(/^v/, ''))
    .filter(Boolean),
  sections: new Set(
    (process.env.BENCH_ONLY ?? 'one,cold,many,rerun,startup,trace').split(',').map(x => x.trim())
  ),
  many: 12
}
const WRITE_README = process.argv.includes('--readme')

async function main(): Promise<number> {
  const started = performance.now()
  const loadAtStart = os
    .loadavg()
    .map(l => l.toFixed(2))
    .join(' ')
  const notes: string[] = []
  const aws = aptTool(process.env.BENCH_AWS ?? '/usr/bin/aws', 'awscli', notes)
  const curl = aptTool('/usr/bin/curl', 'curl', notes)
  const distAt = distCommit()
  const dist = await snapshotDist(path.join(REPO_ROOT, 'dist'), path.join(TEMP_ROOT, 'dist'))
  progress(
    `Starting the stack (Helm ${knobs.helms.join(', ')}; action runs with ${path.relative(REPO_ROOT, actionNode()) || actionNode()}) ...`
  )
  let markdown = ''
  const code = await withStack('bench', { helmVersions: knobs.helms }, async stack => {
    const measured = await runScenarios({ knobs, stack, dist, aws, curl })
    markdown = report(measured, { knobs, distAt, loadAtStart, notes })
  })
  if (code !== 0) return code
  if (WRITE_README) await writeReadme(markdown)
  progress(`\nbench done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  return 0
}

process.exit(await main())
