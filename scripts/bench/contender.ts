/**
 * What every contender shares: a sample, a contender, and alternate(), which runs contenders in
 * turn so that a busy machine slows them alike.
 */
import { performance } from 'node:perf_hooks'
import { exec, fmtMs, lastLines, progress } from './util.js'

export interface Sample {
  /** The whole run (for the action: main and post step). */
  ms: number
  /** Action runs: the main step alone, from its start to the post step's start. */
  mainMs?: number
  /** Action runs: the post step alone, `node dist/post/index.js` with the state main left. */
  postMs?: number
}

export interface Contender {
  key: string
  label: string
  run(): Promise<Sample>
}

/** Samples by contender key. */
export type Results = Map<string, Sample[]>

/** One warm-up each, then `iterations` rounds of A B C ... in the same order. */
export async function alternate(
  title: string,
  contenders: Contender[],
  iterations: number,
  results: Results
): Promise<void> {
  progress(`\n${title}: ${contenders.map(c => c.label).join(' | ')}`)
  for (const c of contenders) await c.run()
  for (let i = 1; i <= iterations; i++) {
    const line: string[] = []
    for (const c of contenders) {
      const sample = await c.run()
      const list = results.get(c.key) ?? []
      list.push(sample)
      results.set(c.key, list)
      line.push(`${c.key} ${fmtMs(sample.ms)}`)
    }
    progress(`  ${i}/${iterations}: ${line.join(', ')}`)
  }
}

/**
 * The figures behind a key: `KEY` the whole runs, `KEY:main` the main steps alone, `KEY:post`
 * the post steps alone (NaN where a sample has none).
 */
export function samplesOf(results: Results, key: string): number[] {
  const [base, part] = key.split(':')
  const figure = (s: Sample): number =>
    part === 'main' ? (s.mainMs ?? NaN) : part === 'post' ? (s.postMs ?? NaN) : s.ms
  return (results.get(base) ?? []).map(figure)
}

const versionCounters = new Map<string, number>()
/** A new chart version per run in a namespace, so every push is real. */
export function nextVersion(namespace: string): string {
  const n = versionCounters.get(namespace) ?? 0
  versionCounters.set(namespace, n + 1)
  return `1.0.${n}`
}

/** Runs a bash script of scripts/bench/ and returns its wall time; throws when it fails. */
export async function timeScript(
  what: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  cwd: string
): Promise<number> {
  const started = performance.now()
  const r = await exec('/bin/bash', [script, ...args], { env, cwd })
  const ms = performance.now() - started
  if (r.code !== 0)
    throw new Error(`${what} failed (exit ${r.code}): ${lastLines(r.stderr + r.stdout)}`)
  return ms
}
