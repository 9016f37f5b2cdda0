/**
 * Startup and size: the time from spawning `node dist/index.js` to its first log line, for each
 * Node binary at hand (beside `node -e console.log`, the floor); the whole post step (it deletes
 * a job-private directory) beside `node -e 0`; and what dist/ holds.
 */
import { TEMP_ROOT } from '../lib/temp-root.js'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { PRIVATE_DIR_PREFIX } from '../../src/constants.js'
import { trackChild } from '../../testbed/processes.js'
import { actionInputDefaults, inputEnvName, NODE24_BINARY } from '../../testbed/runner.js'
import type { DistSnapshot } from '../lib/dist-snapshot.js'
import type { BenchContext } from './context.js'
import { fmtMs, isExecutable, median, progress } from './util.js'

interface NodeBinary {
  label: string
  path: string
}

/** The Node binaries at hand, one per real file: the runner's node24, this process's, the system's. */
function nodeBinaries(): NodeBinary[] {
  const candidates: { why: string; path: string }[] = [
    { why: 'runner (node24)', path: NODE24_BINARY },
    { why: 'process.execPath', path: process.execPath },
    { why: 'system', path: '/usr/bin/node' }
  ]
  const seen = new Map<string, NodeBinary>()
  for (const c of candidates) {
    if (!isExecutable(c.path)) continue
    const real = realpathSync(c.path)
    const known = seen.get(real)
    if (known) {
      known.label = known.label.replace(/\)$/, `, ${c.why})`)
      continue
    }
    const version = spawnSync(c.path, ['--version']).stdout.toString().trim()
    seen.set(real, { label: `Node ${version} (${c.why})`, path: c.path })
  }
  return [...seen.values()]
}

/**
 * Spawns `node ...args` and resolves with the time until its first stdout line (then kills it),
 * or with `until: 'exit'`, until it exits (it must exit 0 without a warning).
 */
function timeRun(
  node: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  until: 'first-line' | 'exit' = 'first-line'
): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(node, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    trackChild(child)
    let firstLine: number | undefined
    let output = ''
    child.stderr.on('data', (c: Buffer) => (output += c.toString()))
    child.stdout.on('data', (c: Buffer) => {
      if (until === 'exit') output += c.toString()
      if (until === 'exit' || firstLine !== undefined || !c.includes(10)) return
      firstLine = performance.now() - started
      try {
        process.kill(-(child.pid as number), 'SIGKILL')
      } catch {
        // already gone
      }
    })
    child.on('error', reject)
    child.on('close', code => {
      const exited = performance.now() - started
      const what = `${node} ${args.join(' ')}`
      if (until === 'first-line') {
        if (firstLine === undefined) reject(new Error(`${what}: no output. ${output}`))
        else resolve(firstLine)
      } else if (code === 0 && !output.includes('::warning::')) resolve(exited)
      else reject(new Error(`${what}: exit ${code}. ${output}`))
    })
  })
}

/** The environment the runner gives dist/index.js (inputs, file commands, RUNNER_*). */
async function startupEnv(
  ctx: BenchContext
): Promise<{ env: Record<string, string>; cwd: string }> {
  const root = await mkdtemp(path.join(TEMP_ROOT, 'startup-'))
  const dirs = ['workspace', 'temp', 'tool-cache', 'home', 'files'].map(d => path.join(root, d))
  await Promise.all(dirs.map(d => mkdir(d, { recursive: true })))
  const [workspace, temp, toolCache, home, files] = dirs
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'bench/helm-ecr-publish',
    GITHUB_SERVER_URL: 'http://127.0.0.1:9',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: temp,
    RUNNER_TOOL_CACHE: toolCache,
    ...ctx.stack.actionEnv
  }
  for (const f of [
    'GITHUB_OUTPUT',
    'GITHUB_STATE',
    'GITHUB_ENV',
    'GITHUB_PATH',
    'GITHUB_STEP_SUMMARY'
  ]) {
    env[f] = path.join(files, f.toLowerCase())
    await writeFile(env[f], '')
  }
  const inputs = {
    ...actionInputDefaults(),
    charts: 'charts/*',
    'helm-version': ctx.knobs.helms[0],
    'helm-download-url': ctx.stack.mirror.url
  }
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value
  return { env, cwd: workspace }
}

export interface StartupRow {
  node: string
  actionMs: number[]
  floorMs: number[]
  /** The whole post step: spawn to exit, with a job-private directory to delete. */
  postMs: number[]
  /** `node -e 0`: spawn to exit, measured beside each post step. */
  emptyMs: number[]
}

/**
 * One post step as the runner starts it: a fresh helm-ecr-publish-* directory (with a registry
 * login in it) under RUNNER_TEMP, named by the STATE_ variable; the step must delete it.
 */
async function timePostStep(
  node: string,
  ctx: BenchContext,
  env: Record<string, string>,
  cwd: string
): Promise<number> {
  const dir = await mkdtemp(path.join(env.RUNNER_TEMP, PRIVATE_DIR_PREFIX))
  await mkdir(path.join(dir, 'registry'))
  await writeFile(path.join(dir, 'registry', 'config.json'), '{"auths":{}}')
  const ms = await timeRun(
    node,
    [ctx.dist.post],
    { ...env, STATE_registryConfigDir: dir },
    cwd,
    'exit'
  )
  if (existsSync(dir)) throw new Error(`the post step left ${dir} behind`)
  return ms
}

export async function measureStartup(ctx: BenchContext): Promise<StartupRow[]> {
  progress(
    `\nstartup: time to the first log line of node dist/index.js (${ctx.knobs.startupSamples} each)`
  )
  const { env, cwd } = await startupEnv(ctx)
  const binaries = nodeBinaries()
  const rows: StartupRow[] = binaries.map(b => ({
    node: b.label,
    actionMs: [],
    floorMs: [],
    postMs: [],
    emptyMs: []
  }))
  const hello = ['-e', 'console.log("hello")']
  const empty = ['-e', '0']
  for (const b of binaries) {
    await timeRun(b.path, [ctx.dist.main], env, cwd) // warm-up (page cache)
    await timeRun(b.path, hello, env, cwd)
    await timePostStep(b.path, ctx, env, cwd)
  }
  for (let s = 0; s < ctx.knobs.startupSamples; s++) {
    for (const [i, b] of binaries.entries()) {
      rows[i].actionMs.push(await timeRun(b.path, [ctx.dist.main], env, cwd))
      rows[i].floorMs.push(await timeRun(b.path, hello, env, cwd))
      rows[i].postMs.push(await timePostStep(b.path, ctx, env, cwd))
      rows[i].emptyMs.push(await timeRun(b.path, empty, env, cwd, 'exit'))
    }
  }
  for (const r of rows) {
    progress(
      `  ${r.node}: ${fmtMs(median(r.actionMs))} (node -e console.log: ${fmtMs(median(r.floorMs))}); post step ${fmtMs(median(r.postMs))} (node -e 0: ${fmtMs(median(r.emptyMs))})`
    )
  }
  return rows
}

export interface BundleSize {
  total: number
  startup: { file: string; bytes: number }[]
  lazy: { file: string; bytes: number }[]
  maps: number
  post: number
  other: number
}

/** dist/ by what loads it: the first log line, lazy chunks, source maps, the post step. */
export function bundleSize(dist: DistSnapshot): BundleSize {
  const root = dist.dir
  const files: { file: string; bytes: number }[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else files.push({ file: path.relative(root, p), bytes: statSync(p).size })
    }
  }
  walk(root)
  // What dist/index.js loads before its first line: itself and its static imports.
  const main = readFileSync(dist.main, 'utf8')
  const staticImports = [...main.slice(0, 2000).matchAll(/^import ['"]\.\/([^'"]+)['"]/gm)].map(
    m => m[1]
  )
  const startupNames = new Set(['index.js', ...staticImports])
  const size: BundleSize = { total: 0, startup: [], lazy: [], maps: 0, post: 0, other: 0 }
  for (const f of files) {
    size.total += f.bytes
    if (startupNames.has(f.file)) size.startup.push(f)
    else if (/^\d+\.index\.js$/.test(f.file)) size.lazy.push(f)
    else if (f.file.endsWith('.map')) size.maps += f.bytes
    else if (f.file.startsWith(`post${path.sep}`)) size.post += f.bytes
    else size.other += f.bytes
  }
  return size
}
