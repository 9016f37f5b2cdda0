/** What every part of `npm run bench` shares: the knobs, the stack, the tools, the dist/ copy. */
import type { Stack } from '../../testbed/stack.js'
import type { DistSnapshot } from '../lib/dist-snapshot.js'

/** The BENCH_* settings (see scripts/bench.ts). */
export interface Knobs {
  /** Measured iterations per contender (after one warm-up each). */
  iterations: number
  /** Samples per Node binary for the startup time. */
  startupSamples: number
  /** Helm versions of the one-chart comparison; the first is used for every other scenario. */
  helms: string[]
  /** The sections to run: one, cold, many, startup, trace. */
  sections: Set<string>
  /** Charts in the many-charts scenario. */
  many: number
}

export interface BenchContext {
  knobs: Knobs
  stack: Stack
  /** The copy of dist/ every run uses (see lib/dist-snapshot.ts). */
  dist: DistSnapshot
  /** The aws CLI of the shell pipeline; its contenders are skipped when missing. */
  aws?: string
  /** curl for the cold-install comparison; skipped when missing. */
  curl?: string
}
