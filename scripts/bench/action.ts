/**
 * The action as a contender: the bundled dist/ run like the GitHub runner does (main step, then
 * post step), timed from the main step's start to the post step's exit.
 */
import { TEMP_ROOT } from '../lib/temp-root.js'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import {
  ACTION_MAIN,
  ACTION_POST,
  cleanupRun,
  errorLines,
  runAction,
  type RunActionResult
} from '../../testbed/runner.js'
import type { BenchContext } from './context.js'
import { nextVersion, type Contender, type Sample } from './contender.js'
import { lastLines, progress } from './util.js'

export interface ActionRunOptions {
  workspace: string
  charts: string
  namespace: string
  helm: string
  /** Shared tool cache (warm); a fresh empty one per run when undefined (cold). */
  toolCache?: string
  /** Charts the run must push (with dryRun: report as "would push"). */
  count: number
  /** The dry-run input: lint, package, local push for the digest, registry lookups; no writes. */
  dryRun?: boolean
  /** skip-existing: true. */
  skipExisting?: boolean
  /** Chart.yaml's versions (no "version" input); otherwise a new version per run. */
  unchanged?: boolean
  /** The run must skip its `count` charts (all already published) instead of pushing them. */
  expectSkipped?: boolean
  extraEnv?: Record<string, string>
  wrap?: (command: string, args: string[]) => { command: string; args: string[] }
}

function assertPublished(
  result: RunActionResult,
  what: string,
  charts: number,
  dryRun = false,
  skipped = false
): void {
  const errors = errorLines(result.stdout)
  if (result.exitCode !== 0 || errors.length > 0 || result.timedOut) {
    throw new Error(
      `${what}: the action failed (exit ${result.exitCode}): ${errors.join('; ') || lastLines(result.stdout + result.stderr)}`
    )
  }
  if (result.post?.exitCode !== 0) {
    throw new Error(
      `${what}: the post step failed (exit ${result.post?.exitCode}): ${lastLines(`${result.post?.stdout}${result.post?.stderr}`)}`
    )
  }
  const reported = JSON.parse(result.outputs.charts ?? '[]') as {
    pushed: boolean
    outcome?: string
  }[]
  const counted = reported.filter(c =>
    dryRun ? c.outcome === 'would push' : skipped ? !c.pushed : c.pushed
  ).length
  if (counted !== charts) {
    const verb = dryRun ? 'would push' : skipped ? 'skipped' : 'pushed'
    throw new Error(`${what}: ${verb} ${counted} of ${charts} charts`)
  }
}

/**
 * One run of the action (main, then post with the state main saved), checked to have pushed
 * every chart. The sample times each step's process from its spawn to its exit.
 */
export async function actionRun(
  ctx: BenchContext,
  key: string,
  o: ActionRunOptions,
  retried = false
): Promise<{ result: RunActionResult; sample: Sample }> {
  let mainStart = 0
  let postStart = 0
  const toolCache = o.toolCache ?? (await mkdtemp(path.join(TEMP_ROOT, 'tc-cold-')))
  const result = await runAction({
    workspace: o.workspace,
    toolCache,
    env: { ...ctx.stack.actionEnv, ...o.extraEnv },
    inputs: {
      charts: o.charts,
      namespace: o.namespace,
      ...(o.unchanged ? {} : { version: nextVersion(o.namespace) }),
      'helm-version': o.helm,
      'helm-download-url': ctx.stack.mirror.url,
      ...(o.dryRun ? { 'dry-run': 'true' } : {}),
      ...(o.skipExisting ? { 'skip-existing': 'true' } : {})
    },
    wrapCommand: (command, runnerArgs) => {
      if (runnerArgs.includes(ACTION_POST)) postStart = performance.now()
      else mainStart = performance.now()
      const args = runnerArgs.map(a =>
        a === ACTION_MAIN ? ctx.dist.main : a === ACTION_POST ? ctx.dist.post : a
      )
      return o.wrap ? o.wrap(command, args) : { command, args }
    }
  })
  const end = performance.now()
  if (!result.post && !retried) {
    // The runner harness skips post when dist/post/index.js is missing for a moment (a concurrent
    // npm run package): measure this sample again.
    progress(`  (${key}: dist/post was being rebuilt; sample repeated)`)
    await cleanupRun(result)
    if (!o.toolCache) await rm(toolCache, { recursive: true, force: true })
    return actionRun(ctx, key, o, true)
  }
  assertPublished(result, key, o.count, o.dryRun, o.expectSkipped)
  if (!o.toolCache) await rm(toolCache, { recursive: true, force: true })
  return {
    result,
    sample: { ms: end - mainStart, mainMs: postStart - mainStart, postMs: end - postStart }
  }
}

export function actionContender(
  ctx: BenchContext,
  key: string,
  label: string,
  o: ActionRunOptions
): Contender {
  return {
    key,
    label,
    run: async (): Promise<Sample> => {
      const { result, sample } = await actionRun(ctx, key, o)
      await cleanupRun(result)
      return sample
    }
  }
}
