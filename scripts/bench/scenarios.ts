/**
 * What `npm run bench` measures side by side: one chart on a warm runner (per Helm version), a
 * cold runner (the installer), many charts, then startup, bundle size and traced runs.
 */
import { TEMP_ROOT } from '../lib/temp-root.js'
import { mkdtemp } from 'node:fs/promises'
import path from 'node:path'
import { helmBinary } from '../../testbed/helm-binaries.js'
import { createRepository } from '../../testbed/scenario.js'
import { makeChart } from '../../testbed/stack.js'
import { actionContender } from './action.js'
import type { BenchContext } from './context.js'
import { alternate, type Contender, type Results } from './contender.js'
import { curlContender } from './curl.js'
import { shellContender } from './shell.js'
import { bundleSize, measureStartup, type BundleSize, type StartupRow } from './startup.js'
import { traceRun, type Trace } from './trace.js'
import { fmtBytes, progress } from './util.js'

/** A line of the contender table: the samples under `key` (see samplesOf). */
export interface Row {
  scenario: string
  contender: string
  key: string
}

/** The contender table as the scenarios fill it: its rows and the samples behind them. */
interface Table {
  rows: Row[]
  results: Results
}

export interface Measurements extends Table {
  startup: StartupRow[]
  size: BundleSize
  traces: Trace[]
}

/** The charts every scenario publishes: one chart, and `many` charts under many/. */
interface Workspace {
  dir: string
  oneDir: string
  manyDirs: string[]
}

/** `4.1.4` -> `414`, for keys and namespaces. */
export function compactVersion(helm: string): string {
  return helm.replace(/\./g, '')
}

/** The workspace and every repository of every scenario (created up front, outside the timings). */
async function prepare(ctx: BenchContext): Promise<Workspace> {
  const { helms, many } = ctx.knobs
  const dir = await mkdtemp(path.join(TEMP_ROOT, 'ws-'))
  const oneDir = await makeChart(path.join(dir, 'charts', 'bench-one'), {
    name: 'bench-one',
    version: '0.1.0',
    appVersion: '1.0.0'
  })
  const manyDirs: string[] = []
  for (let i = 1; i <= many; i++) {
    const name = `bench-${String(i).padStart(2, '0')}`
    manyDirs.push(await makeChart(path.join(dir, 'many', name), { name, version: '0.1.0' }))
  }
  const repositories = [
    ...helms.flatMap(helm =>
      ['action', 'shell', 'floor'].map(who => `one${compactVersion(helm)}-${who}/bench-one`)
    ),
    `cold${compactVersion(helms[0])}-action/bench-one`,
    ...manyDirs.flatMap(d =>
      ['many-action', 'many-shell', 'many-dry', 'rerun-fresh', 'rerun-same'].map(
        ns => `${ns}/${path.basename(d)}`
      )
    )
  ]
  for (const name of new Set(repositories)) await createRepository(ctx.stack, name)
  return { dir, oneDir, manyDirs }
}

/** One chart on a warm runner: the action, the shell pipeline and the floor. */
async function oneChart(ctx: BenchContext, ws: Workspace, helm: string, m: Table): Promise<void> {
  const v = compactVersion(helm)
  const helmPath = await helmBinary(helm)
  const toolCache = await mkdtemp(path.join(TEMP_ROOT, `tc-warm-${v}-`))
  const scenario = `1 chart, warm runner, Helm ${helm}`
  const row = (contender: string, key: string) => m.rows.push({ scenario, contender, key })
  const contenders: Contender[] = [
    actionContender(ctx, `action-${v}`, 'action', {
      workspace: ws.dir,
      charts: 'charts/bench-one',
      namespace: `one${v}-action`,
      helm,
      toolCache,
      count: 1
    })
  ]
  row('action (main + post step)', `action-${v}`)
  row('action, main step only', `action-${v}:main`)
  row('action, post step only (node dist/post/index.js)', `action-${v}:post`)
  // publish.sh: with a login per run (shell) or logged in once, first (floor).
  const publishSh = (who: 'shell' | 'floor') =>
    shellContender(ctx, `${who}-${v}`, who, {
      helm: helmPath,
      namespace: `one${v}-${who}`,
      chartDirs: [ws.oneDir],
      login: who === 'shell'
    })
  if (ctx.aws) {
    contenders.push(publishSh('shell'))
    row('shell: aws … | helm registry login; package; push', `shell-${v}`)
  }
  contenders.push(publishSh('floor'))
  row('floor: helm package + push (logged in)', `floor-${v}`)
  await alternate(scenario, contenders, ctx.knobs.iterations, m.results)
}

/** A cold runner: the action with an empty and a warm tool cache, and curl. */
async function coldRunner(ctx: BenchContext, ws: Workspace, m: Table): Promise<void> {
  const helm = ctx.knobs.helms[0]
  const options = {
    workspace: ws.dir,
    charts: 'charts/bench-one',
    namespace: `cold${compactVersion(helm)}-action`,
    helm,
    count: 1
  }
  const warmCache = await mkdtemp(path.join(TEMP_ROOT, 'tc-cold-warm-'))
  const contenders: Contender[] = [
    actionContender(ctx, 'cold-action', 'action, empty tool cache', options),
    actionContender(ctx, 'cold-warm', 'action, warm tool cache', {
      ...options,
      toolCache: warmCache
    })
  ]
  const scenario = `cold runner, Helm ${helm} (${fmtBytes(ctx.stack.mirror.archives[helm].size)} archive)`
  const row = (contender: string, key: string) => m.rows.push({ scenario, contender, key })
  row('action, empty tool cache (whole run)', 'cold-action')
  row('action, warm tool cache (whole run)', 'cold-warm')
  row('action installer part (empty − warm medians)', 'cold-installer')
  if (ctx.curl) {
    contenders.push(curlContender(ctx, 'cold-curl', 'curl + sha256sum -c + tar', helm))
    row('curl -O; curl .sha256sum; sha256sum -c; tar xzf', 'cold-curl')
  }
  await alternate(scenario, contenders, ctx.knobs.iterations, m.results)
}

/** Many charts on a warm runner: the action against its dry run and the shell pipeline in a loop. */
async function manyCharts(ctx: BenchContext, ws: Workspace, m: Table): Promise<void> {
  const { helms, many } = ctx.knobs
  const scenario = `${many} charts, warm runner, Helm ${helms[0]}`
  const row = (contender: string, key: string) => m.rows.push({ scenario, contender, key })
  // The same charts through the action, as a real run or (issue 11) a dry run: the dry run
  // lints, packages, pushes to its in-process registry and looks each version up in ECR; it
  // writes nothing. The two are alternated.
  const action = async (key: string, label: string, dryRun: boolean) =>
    actionContender(ctx, key, label, {
      workspace: ws.dir,
      charts: 'many/*',
      namespace: key,
      helm: helms[0],
      toolCache: await mkdtemp(path.join(TEMP_ROOT, `tc-${key}-`)),
      count: many,
      ...(dryRun ? { dryRun } : {})
    })
  const contenders: Contender[] = [
    await action('many-action', 'action', false),
    await action('many-dry', 'action dry run', true)
  ]
  row('action (max-parallel 4, main + post)', 'many-action')
  row('action, main step only', 'many-action:main')
  row('action dry-run: true (max-parallel 4, main + post)', 'many-dry')
  if (ctx.aws) {
    contenders.push(
      shellContender(ctx, 'many-shell', 'shell loop', {
        helm: await helmBinary(helms[0]),
        namespace: 'many-shell',
        chartDirs: ws.manyDirs,
        login: true
      })
    )
    row('shell loop: login + package + push per chart', 'many-shell')
  }
  await alternate(scenario, contenders, ctx.knobs.iterations, m.results)
}

/**
 * A release re-run where nothing changed: the same charts with skip-existing, all already
 * published (digest-first: packaged and compared by digest, nothing pulled or pushed), against
 * publishing a new version of each with skip-existing too. The two are alternated.
 */
async function unchangedRerun(ctx: BenchContext, ws: Workspace, m: Table): Promise<void> {
  const { helms, many } = ctx.knobs
  const scenario = `${many} charts, skip-existing, warm runner, Helm ${helms[0]}`
  const row = (contender: string, key: string) => m.rows.push({ scenario, contender, key })
  const toolCache = await mkdtemp(path.join(TEMP_ROOT, 'tc-rerun-'))
  const options = (key: string) => ({
    workspace: ws.dir,
    charts: 'many/*',
    namespace: key,
    helm: helms[0],
    toolCache,
    count: many,
    skipExisting: true
  })
  // Publish Chart.yaml's versions once, outside the timings: every later run finds them.
  progress(`\n${scenario}: publishing the unchanged versions once`)
  await actionContender(ctx, 'rerun-prime', 'prime', {
    ...options('rerun-same'),
    unchanged: true
  }).run()
  const contenders: Contender[] = [
    actionContender(ctx, 'rerun-fresh', 'new versions', options('rerun-fresh')),
    actionContender(ctx, 'rerun-same', 'unchanged re-run', {
      ...options('rerun-same'),
      unchanged: true,
      expectSkipped: true
    })
  ]
  row('action, 12 new versions (main + post)', 'rerun-fresh')
  row('action, unchanged re-run: all skipped (main + post)', 'rerun-same')
  await alternate(scenario, contenders, ctx.knobs.iterations, m.results)
}

/** One traced run of each kind: one chart, many charts, one chart with an empty tool cache. */
async function traces(ctx: BenchContext, ws: Workspace): Promise<Trace[]> {
  const { helms, many } = ctx.knobs
  const helm = helms[0]
  const v = compactVersion(helm)
  const one = { workspace: ws.dir, charts: 'charts/bench-one', helm, count: 1 }
  progress('\ntrace: one warm run with stamped log lines and a timing helm wrapper')
  return [
    await traceRun(ctx, `1 chart, Helm ${helm}`, { ...one, namespace: `one${v}-action` }),
    await traceRun(ctx, `${many} charts, Helm ${helm}`, {
      workspace: ws.dir,
      charts: 'many/*',
      namespace: 'many-action',
      helm,
      count: many
    }),
    await traceRun(ctx, `1 chart, Helm ${helm}, empty tool cache`, {
      ...one,
      namespace: `cold${v}-action`,
      cold: true
    })
  ]
}

/** Runs the sections of ctx.knobs.sections, in this order: one, cold, many, rerun, startup, trace. */
export async function runScenarios(ctx: BenchContext): Promise<Measurements> {
  const { sections, helms } = ctx.knobs
  const ws = await prepare(ctx)
  const table: Table = { rows: [], results: new Map() }
  for (const helm of sections.has('one') ? helms : []) await oneChart(ctx, ws, helm, table)
  if (sections.has('cold')) await coldRunner(ctx, ws, table)
  if (sections.has('many')) await manyCharts(ctx, ws, table)
  if (sections.has('rerun')) await unchangedRerun(ctx, ws, table)
  const startup = sections.has('startup') ? await measureStartup(ctx) : []
  const size = bundleSize(ctx.dist)
  return { ...table, startup, size, traces: sections.has('trace') ? await traces(ctx, ws) : [] }
}
