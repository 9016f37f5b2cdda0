/**
 * npm run bench: the bundled action against what users do today, on the end-to-end stack (ECR
 * emulator, real distribution registry, real Helm), contenders alternated in one run.
 *
 *   BENCH_ITERATIONS=7        measured iterations per contender (after one warm-up each)
 *   BENCH_HELM=4.1.4,3.18.0   Helm versions of the one-chart comparison (the first is used for all)
 *   BENCH_STARTUP_SAMPLES=15  samples per Node binary for the startup time
 *   BENCH_AWS=/usr/bin/aws    the aws CLI of the shell pipeline (Debian's awscli package)
 *   BENCH_ONLY=one,cold,many,startup,trace   the sections to run (default: all)
 *   npm run bench -- --readme writes the Markdown table into README.md (bench markers)
 */
import { TEMP_ROOT } from './lib/temp-root.js'
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process'
import { accessSync, constants, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import * as prettier from 'prettier'
import { helmBinary } from '../__tests__/e2e/support/helm-binaries.js'
import { archiveName } from '../__tests__/e2e/support/helm-mirror.js'
import { REPO_ROOT } from '../__tests__/e2e/support/paths.js'
import { trackChild } from '../__tests__/e2e/support/processes.js'
import {
  ACTION_MAIN,
  ACTION_POST,
  actionInputDefaults,
  actionNode,
  cleanupRun,
  errorLines,
  inputEnvName,
  NODE24_BINARY,
  runAction,
  type RunActionResult
} from '../__tests__/e2e/support/runner.js'
import { createRepository } from '../__tests__/e2e/support/scenario.js'
import { makeChart, type Stack } from '../__tests__/e2e/support/stack.js'
import { snapshotDist, type DistSnapshot } from './lib/dist-snapshot.js'
import { textTable } from './lib/render.js'
import { withStack } from './lib/with-stack.js'

const ITERATIONS = positiveInt('BENCH_ITERATIONS', 7)
const STARTUP_SAMPLES = positiveInt('BENCH_STARTUP_SAMPLES', 15)
const HELMS = (process.env.BENCH_HELM ?? '4.1.4,3.18.0')
  .split(',')
  .map(v => v.trim().replace(/^v/, ''))
  .filter(Boolean)
const MANY = 12
const SECTIONS = new Set(
  (process.env.BENCH_ONLY ?? 'one,cold,many,startup,trace').split(',').map(x => x.trim())
)
const PUBLISH_SH = path.join(REPO_ROOT, 'scripts', 'bench', 'publish.sh')
const DOWNLOAD_SH = path.join(REPO_ROOT, 'scripts', 'bench', 'download.sh')
const STAMP_MJS = path.join(REPO_ROOT, 'scripts', 'lib', 'stamp-stdout.mjs')
const WRITE_README = process.argv.includes('--readme')
const LOAD_AT_START = os
  .loadavg()
  .map(l => l.toFixed(2))
  .join(' ')

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`)
  return n
}

// ── small utilities ──────────────────────────────────────────────────────────────────────────

const notes: string[] = []

function progress(text: string): void {
  process.stderr.write(`${text}\n`)
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`
}

function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MiB` : `${(n / 1024).toFixed(0)} KiB`
}

interface Exec {
  code: number | null
  stdout: string
  stderr: string
}

function exec(
  command: string,
  args: string[],
  opts: SpawnOptions & { input?: string } = {}
): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] })
    trackChild(child)
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(opts.input ?? '')
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', code => resolve({ code, stdout, stderr }))
  })
}

function lastLines(text: string, n = 6): string {
  return text.trim().split('\n').slice(-n).join('\n')
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** An apt tool: present, or installed with apt-get when root; undefined (with a note) otherwise. */
function aptTool(binary: string, aptPackage: string): string | undefined {
  if (isExecutable(binary)) return binary
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  if (root && isExecutable('/usr/bin/apt-get')) {
    progress(`Installing ${aptPackage} with apt-get ...`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const install = () =>
      spawnSync('apt-get', ['install', '-y', '--no-install-recommends', aptPackage], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env
      }).status === 0
    if (!install()) {
      spawnSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'], env })
      install()
    }
    if (isExecutable(binary)) return binary
  }
  notes.push(
    `${binary} is missing (\`apt-get install -y ${aptPackage}\`): its contenders were skipped.`
  )
  return undefined
}

// ── the contenders ───────────────────────────────────────────────────────────────────────────

interface Sample {
  ms: number
  /** For action runs: the main step alone (without post). */
  mainMs?: number
}

interface Contender {
  key: string
  label: string
  run(): Promise<Sample>
}

type Results = Map<string, Sample[]>

/** One warm-up each, then `iterations` rounds of A B C ... in the same order. */
async function alternate(
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

interface BenchContext {
  stack: Stack
  aws?: string
  curl?: string
}

const versionCounters = new Map<string, number>()
/** A new chart version per run in a namespace, so every push is real. */
function nextVersion(key: string): string {
  const n = versionCounters.get(key) ?? 0
  versionCounters.set(key, n + 1)
  return `1.0.${n}`
}

function assertPublished(result: RunActionResult, what: string, charts: number): void {
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
  const pushed = (JSON.parse(result.outputs.charts ?? '[]') as { pushed: boolean }[]).filter(
    c => c.pushed
  ).length
  if (pushed !== charts) throw new Error(`${what}: pushed ${pushed} of ${charts} charts`)
}

interface ActionRunOptions {
  workspace: string
  charts: string
  namespace: string
  helm: string
  /** Shared tool cache (warm); a fresh empty one per run when undefined (cold). */
  toolCache?: string
  count: number
  extraEnv?: Record<string, string>
  wrap?: (command: string, args: string[]) => { command: string; args: string[] }
}

/** The copy of dist/ every run uses (see lib/dist-snapshot.ts); set before the first run. */
let dist: DistSnapshot
/** The commit of that copy (see distCommit). */
let distAt = ''

async function actionRun(
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
      version: nextVersion(o.namespace),
      'helm-version': o.helm,
      'helm-download-url': ctx.stack.mirror.url
    },
    wrapCommand: (command, runnerArgs) => {
      if (runnerArgs.includes(ACTION_POST)) postStart = performance.now()
      else mainStart = performance.now()
      const args = runnerArgs.map(a =>
        a === ACTION_MAIN ? dist.main : a === ACTION_POST ? dist.post : a
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
  assertPublished(result, key, o.count)
  if (!o.toolCache) await rm(toolCache, { recursive: true, force: true })
  return { result, sample: { ms: end - mainStart, mainMs: postStart - mainStart } }
}

function actionContender(ctx: BenchContext, key: string, label: string, o: ActionRunOptions) {
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

/** A fresh HOME, Helm dirs, registry config and DOCKER_CONFIG, plus what the script needs. */
async function shellEnv(
  ctx: BenchContext,
  helm: string,
  namespace: string
): Promise<Record<string, string>> {
  const home = await mkdtemp(path.join(TEMP_ROOT, 'home-'))
  await mkdir(path.join(home, 'docker'))
  return {
    PATH: `${path.dirname(helm)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    HELM_CONFIG_HOME: path.join(home, 'helm-config'),
    HELM_CACHE_HOME: path.join(home, 'helm-cache'),
    HELM_DATA_HOME: path.join(home, 'helm-data'),
    HELM_REGISTRY_CONFIG: path.join(home, 'registry', 'config.json'),
    DOCKER_CONFIG: path.join(home, 'docker'),
    // Helm talks TLS to the registry front; the aws CLI talks plain HTTP to the emulator's API.
    SSL_CERT_FILE: ctx.stack.certs.caFile,
    AWS_CA_BUNDLE: ctx.stack.certs.caFile,
    AWS_ACCESS_KEY_ID: ctx.stack.ecr.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ctx.stack.ecr.credentials.secretAccessKey,
    AWS_REGION: ctx.stack.ecr.region,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS: ctx.aws ?? '/usr/bin/aws',
    ECR_API: ctx.stack.ecr.apiUrl,
    REGISTRY: ctx.stack.ecr.registryHost,
    NAMESPACE: namespace
  }
}

async function timeScript(
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

/** publish.sh: login (aws | helm registry login) + package + push per chart, or the floor. */
function shellContender(
  ctx: BenchContext,
  key: string,
  label: string,
  o: { helm: string; namespace: string; chartDirs: string[]; login: boolean }
): Contender {
  let loggedIn: Record<string, string> | undefined
  return {
    key,
    label,
    run: async () => {
      // The shell pipeline starts from a fresh HOME every run; the floor logs in once, first.
      let env = loggedIn
      if (!env) {
        env = await shellEnv(ctx, o.helm, o.namespace)
        if (!o.login) {
          const token = ctx.stack.ecr.issueToken()
          const login = await exec(
            o.helm,
            [
              'registry',
              'login',
              ctx.stack.ecr.registryHost,
              '--username',
              'AWS',
              '--password-stdin'
            ],
            { env, input: token.password }
          )
          if (login.code !== 0)
            throw new Error(`${key}: helm registry login failed: ${login.stderr}`)
          loggedIn = env
        }
      }
      const out = await mkdtemp(path.join(TEMP_ROOT, 'out-'))
      const ms = await timeScript(
        key,
        PUBLISH_SH,
        [out, nextVersion(o.namespace), ...o.chartDirs],
        { ...env, BENCH_LOGIN: o.login ? '1' : '0' },
        env.HOME
      )
      await rm(out, { recursive: true, force: true })
      if (o.login) await rm(env.HOME, { recursive: true, force: true })
      return { ms }
    }
  }
}

function curlContender(ctx: BenchContext, key: string, label: string, helm: string): Contender {
  return {
    key,
    label,
    run: async () => {
      const dir = await mkdtemp(path.join(TEMP_ROOT, 'curl-'))
      const ms = await timeScript(
        key,
        DOWNLOAD_SH,
        [ctx.stack.mirror.url, archiveName(helm)],
        { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' },
        dir
      )
      await rm(dir, { recursive: true, force: true })
      return { ms }
    }
  }
}

// ── startup and bundle size ──────────────────────────────────────────────────────────────────

interface NodeBinary {
  label: string
  path: string
}

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

/** Spawns `node ...args` and resolves with the time until its first stdout line; kills it then. */
function timeToFirstLine(
  node: string,
  args: string[],
  env: Record<string, string>,
  cwd: string
): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(node, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    trackChild(child)
    let firstLine: number | undefined
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.stdout.on('data', (c: Buffer) => {
      if (firstLine !== undefined || !c.includes(10)) return
      firstLine = performance.now() - started
      try {
        process.kill(-(child.pid as number), 'SIGKILL')
      } catch {
        // already gone
      }
    })
    child.on('error', reject)
    child.on('close', () => {
      if (firstLine === undefined)
        reject(new Error(`${node} ${args.join(' ')}: no output. ${stderr}`))
      else resolve(firstLine)
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
    'helm-version': HELMS[0],
    'helm-download-url': ctx.stack.mirror.url
  }
  for (const [name, value] of Object.entries(inputs)) env[inputEnvName(name)] = value
  return { env, cwd: workspace }
}

interface StartupRow {
  node: string
  actionMs: number[]
  floorMs: number[]
}

async function measureStartup(ctx: BenchContext): Promise<StartupRow[]> {
  progress(`\nstartup: time to the first log line of node dist/index.js (${STARTUP_SAMPLES} each)`)
  const { env, cwd } = await startupEnv(ctx)
  const binaries = nodeBinaries()
  const rows: StartupRow[] = binaries.map(b => ({ node: b.label, actionMs: [], floorMs: [] }))
  const hello = ['-e', 'console.log("hello")']
  for (const b of binaries) {
    await timeToFirstLine(b.path, [dist.main], env, cwd) // warm-up (page cache)
    await timeToFirstLine(b.path, hello, env, cwd)
  }
  for (let s = 0; s < STARTUP_SAMPLES; s++) {
    for (const [i, b] of binaries.entries()) {
      rows[i].actionMs.push(await timeToFirstLine(b.path, [dist.main], env, cwd))
      rows[i].floorMs.push(await timeToFirstLine(b.path, hello, env, cwd))
    }
  }
  for (const r of rows) {
    progress(
      `  ${r.node}: ${fmtMs(median(r.actionMs))} (node -e console.log: ${fmtMs(median(r.floorMs))})`
    )
  }
  return rows
}

interface BundleSize {
  total: number
  startup: { file: string; bytes: number }[]
  lazy: { file: string; bytes: number }[]
  maps: number
  post: number
  other: number
}

function bundleSize(): BundleSize {
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

// ── trace: where the action's time goes ──────────────────────────────────────────────────────

interface TraceEvent {
  at: number
  end?: number
  text: string
}

/** A tool cache whose helm is a wrapper that logs each Helm process (start, end, argv). */
async function tracingToolCache(helm: string, log: string): Promise<string> {
  const tc = await mkdtemp(path.join(TEMP_ROOT, 'tc-trace-'))
  const dir = path.join(tc, 'helm', helm, os.arch())
  await mkdir(dir, { recursive: true })
  const wrapper = [
    '#!/bin/bash',
    's=$EPOCHREALTIME',
    `${JSON.stringify(await helmBinary(helm))} "$@"`,
    'rc=$?',
    `printf '%s %s %s %s\\n' "$s" "$EPOCHREALTIME" "$rc" "$*" >> ${JSON.stringify(log)}`,
    'exit $rc',
    ''
  ].join('\n')
  await writeFile(path.join(dir, 'helm'), wrapper, { mode: 0o755 })
  await writeFile(`${dir}.complete`, '')
  return tc
}

function shortArgs(args: string, workspace: string): string {
  return args
    .split(' ')
    .map(a =>
      a.startsWith('/')
        ? a.startsWith(workspace)
          ? path.relative(workspace, a)
          : `…/${path.basename(a)}`
        : a
    )
    .join(' ')
}

interface Trace {
  title: string
  main: TraceEvent[]
  post: TraceEvent[]
  helm: { start: number; end: number; args: string }[]
  mainMs: number
  postMs: number
}

/** Runs the action once with stamped stdout and a logging helm; returns a timeline. */
async function traceRun(
  ctx: BenchContext,
  title: string,
  o: Omit<ActionRunOptions, 'toolCache' | 'wrap' | 'extraEnv'> & { cold?: boolean }
): Promise<Trace> {
  const helmLog = path.join(await mkdtemp(path.join(TEMP_ROOT, 'trace-')), 'helm.log')
  await writeFile(helmLog, '')
  // Cold: an empty tool cache (Helm is installed from the mirror, its processes are not timed).
  const toolCache = o.cold ? undefined : await tracingToolCache(o.helm, helmLog)
  const apiBefore = ctx.stack.ecr.apiCalls.length
  const { result } = await actionRun(ctx, `trace-${o.namespace}`, {
    ...o,
    toolCache,
    wrap: (command, args) => ({
      command,
      args: ['--import', pathToFileURL(STAMP_MJS).href, ...args]
    })
  })
  const parse = (stdout: string) => {
    let origin = 0
    let inGroup = false
    const events: TraceEvent[] = []
    for (const line of stdout.split('\n')) {
      const m = /^\[(\d+(?:\.\d+)?)\] (.*)$/.exec(line)
      if (!m) continue
      const at = Number(m[1])
      const text = m[2]
      if (text.startsWith('::stamp::origin ')) origin = Number(text.slice(16))
      else if (text === '::stamp::exit') events.push({ at, text: 'process exits' })
      else if (text.startsWith('::endgroup::')) inGroup = false
      else if (text.startsWith('::group::')) {
        inGroup = true
        events.push({ at, text: `log group: ${text.slice(9)}` })
      } else if (!inGroup && !/^::(debug|add-mask)::/.test(text)) events.push({ at, text })
    }
    return { origin, events }
  }
  const main = parse(result.stdout)
  const post = parse(result.post?.stdout ?? '')
  const helm = (await readFile(helmLog, 'utf8'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(line => {
      const [s, e, , ...args] = line.split(' ')
      return { startEpoch: Number(s) * 1000, endEpoch: Number(e) * 1000, args: args.join(' ') }
    })
  const inMain = helm.filter(h => !/^registry logout/.test(h.args))
  const inPost = helm.filter(h => /^registry logout/.test(h.args))
  const rel = (origin: number) => (h: (typeof helm)[number]) => ({
    start: h.startEpoch - origin,
    end: h.endEpoch - origin,
    args: shortArgs(h.args, o.workspace)
  })
  const api = ctx.stack.ecr.apiCalls.slice(apiBefore).map(c => ({
    at: c.at.getTime() - main.origin,
    text: `ECR API ${c.op} answered (${c.status})`
  }))
  const helmMain = inMain.map(rel(main.origin))
  const mainEvents = [
    { at: 0, text: 'node starts' },
    ...main.events,
    ...api,
    ...helmMain.map(h => ({ at: h.start, end: h.end, text: `helm ${h.args}` }))
  ].sort((a, b) => a.at - b.at)
  const postEvents = [
    { at: 0, text: 'node starts' },
    ...post.events,
    ...inPost.map(rel(post.origin)).map(h => ({ at: h.start, end: h.end, text: `helm ${h.args}` }))
  ].sort((a, b) => a.at - b.at)
  await cleanupRun(result)
  const exitOf = (events: TraceEvent[]) => events.find(e => e.text === 'process exits')?.at ?? 0
  return {
    title,
    main: mainEvents,
    post: postEvents,
    helm: helmMain,
    mainMs: exitOf(main.events),
    postMs: exitOf(post.events)
  }
}

function printTimeline(events: TraceEvent[], limit = 60): void {
  const shown =
    events.length > limit ? [...events.slice(0, limit - 8), ...events.slice(-8)] : events
  for (const [i, e] of shown.entries()) {
    if (events.length > limit && i === limit - 8)
      console.log(`    ${''.padStart(15)}  … ${events.length - limit} more`)
    const when =
      e.end === undefined ? `${Math.round(e.at)}` : `${Math.round(e.at)}–${Math.round(e.end)}`
    const dur = e.end === undefined ? '' : ` (${Math.round(e.end - e.at)} ms)`
    console.log(`    ${when.padStart(11)} ms  ${e.text.slice(0, 110)}${dur}`)
  }
}

function summarizeHelm(trace: Trace): string[] {
  const byCommand = new Map<string, number[]>()
  for (const h of trace.helm) {
    const cmd = h.args
      .split(' ')
      .slice(0, h.args.startsWith('registry') ? 2 : 1)
      .join(' ')
    byCommand.set(cmd, [...(byCommand.get(cmd) ?? []), h.end - h.start])
  }
  const lines = [...byCommand].map(
    ([cmd, ds]) =>
      `helm ${cmd}: ${ds.length}× median ${fmtMs(median(ds))}, total ${fmtMs(ds.reduce((a, b) => a + b, 0))}`
  )
  if (trace.helm.length) {
    const first = Math.min(...trace.helm.map(h => h.start))
    const last = Math.max(...trace.helm.map(h => h.end))
    lines.push(
      `before the first helm process: ${fmtMs(first)}; helm processes span ${fmtMs(last - first)}; after the last: ${fmtMs(trace.mainMs - last)} (main exits at ${fmtMs(trace.mainMs)})`
    )
  }
  return lines
}

/** One sentence on where a traced one-chart run spends its time (for the README). */
function traceSentence(t: Trace): string {
  const at = (re: RegExp) => t.main.find(e => re.test(e.text))
  const firstLine = t.main.find(e => e.text !== 'node starts' && e.end === undefined)
  const token = at(/GetAuthorizationToken/)
  const helm = t.main
    .filter(e => e.end !== undefined)
    .map(e => {
      const words = e.text.split(' ')
      const name = words.slice(0, words[1] === 'registry' ? 3 : 2).join(' ')
      return `\`${name}\` ${fmtMs((e.end as number) - e.at)}`
    })
  const logout = t.post.find(e => e.end !== undefined && /logout/.test(e.text))
  return [
    `One traced warm run (${t.title}): the main step takes ${fmtMs(t.mainMs)}`,
    `— Node start to the first log line ${fmtMs(firstLine?.at ?? NaN)},`,
    `ECR token answered at ${fmtMs(token?.at ?? NaN)},`,
    `${helm.join(', ')};`,
    `the post step takes ${fmtMs(t.postMs)}${logout ? ` (\`helm registry logout\` ${fmtMs((logout.end as number) - logout.at)})` : ''}.`
  ].join(' ')
}

// ── the run ──────────────────────────────────────────────────────────────────────────────────

interface Row {
  scenario: string
  contender: string
  key: string
}

async function bench(ctx: BenchContext): Promise<string> {
  const { stack } = ctx
  const helm0 = HELMS[0]
  const results: Results = new Map()
  const rows: Row[] = []
  const workspace = await mkdtemp(path.join(TEMP_ROOT, 'ws-'))
  const oneDir = await makeChart(path.join(workspace, 'charts', 'bench-one'), {
    name: 'bench-one',
    version: '0.1.0',
    appVersion: '1.0.0'
  })
  const manyDirs: string[] = []
  for (let i = 1; i <= MANY; i++) {
    const name = `bench-${String(i).padStart(2, '0')}`
    manyDirs.push(await makeChart(path.join(workspace, 'many', name), { name, version: '0.1.0' }))
  }
  const repos = new Set<string>()
  const repo = async (name: string) => {
    if (repos.has(name)) return
    repos.add(name)
    await createRepository(stack, name)
  }
  const v0 = helm0.replace(/\./g, '')
  for (const helm of HELMS) {
    for (const who of ['action', 'shell', 'floor']) {
      await repo(`one${helm.replace(/\./g, '')}-${who}/bench-one`)
    }
  }
  await repo(`cold${v0}-action/bench-one`)
  for (const dir of manyDirs) {
    await repo(`many-action/${path.basename(dir)}`)
    await repo(`many-shell/${path.basename(dir)}`)
  }

  // 1. One chart, warm runner, per Helm version.
  for (const helm of SECTIONS.has('one') ? HELMS : []) {
    const v = helm.replace(/\./g, '')
    const helmPath = await helmBinary(helm)
    const ns = { action: `one${v}-action`, shell: `one${v}-shell`, floor: `one${v}-floor` }
    const toolCache = await mkdtemp(path.join(TEMP_ROOT, `tc-warm-${v}-`))
    const scenario = `1 chart, warm runner, Helm ${helm}`
    const contenders: Contender[] = [
      actionContender(ctx, `action-${v}`, 'action', {
        workspace,
        charts: 'charts/bench-one',
        namespace: ns.action,
        helm,
        toolCache,
        count: 1
      })
    ]
    rows.push({ scenario, contender: 'action (main + post step)', key: `action-${v}` })
    rows.push({ scenario, contender: 'action, main step only', key: `action-${v}:main` })
    if (ctx.aws) {
      contenders.push(
        shellContender(ctx, `shell-${v}`, 'shell', {
          helm: helmPath,
          namespace: ns.shell,
          chartDirs: [oneDir],
          login: true
        })
      )
      rows.push({
        scenario,
        contender: 'shell: aws … | helm registry login; package; push',
        key: `shell-${v}`
      })
    }
    contenders.push(
      shellContender(ctx, `floor-${v}`, 'floor', {
        helm: helmPath,
        namespace: ns.floor,
        chartDirs: [oneDir],
        login: false
      })
    )
    rows.push({ scenario, contender: 'floor: helm package + push (logged in)', key: `floor-${v}` })
    await alternate(scenario, contenders, ITERATIONS, results)
  }

  // 2. Cold runner: the installer.
  if (SECTIONS.has('cold')) await benchCold()
  async function benchCold(): Promise<void> {
    const coldWarmCache = await mkdtemp(path.join(TEMP_ROOT, 'tc-cold-warm-'))
    const coldOpts = {
      workspace,
      charts: 'charts/bench-one',
      namespace: `cold${v0}-action`,
      helm: helm0,
      count: 1
    }
    const coldContenders: Contender[] = [
      actionContender(ctx, 'cold-action', 'action, empty tool cache', coldOpts),
      actionContender(ctx, 'cold-warm', 'action, warm tool cache', {
        ...coldOpts,
        toolCache: coldWarmCache
      })
    ]
    const coldScenario = `cold runner, Helm ${helm0} (${fmtBytes(stack.mirror.archives[helm0].size)} archive)`
    rows.push({
      scenario: coldScenario,
      contender: 'action, empty tool cache (whole run)',
      key: 'cold-action'
    })
    rows.push({
      scenario: coldScenario,
      contender: 'action, warm tool cache (whole run)',
      key: 'cold-warm'
    })
    rows.push({
      scenario: coldScenario,
      contender: 'action installer part (empty − warm medians)',
      key: 'cold-installer'
    })
    if (ctx.curl) {
      coldContenders.push(curlContender(ctx, 'cold-curl', 'curl + sha256sum -c + tar', helm0))
      rows.push({
        scenario: coldScenario,
        contender: 'curl -O; curl .sha256sum; sha256sum -c; tar xzf',
        key: 'cold-curl'
      })
    }
    await alternate(coldScenario, coldContenders, ITERATIONS, results)
  }

  // 3. Twelve charts.
  if (SECTIONS.has('many')) await benchMany()
  async function benchMany(): Promise<void> {
    const manyScenario = `${MANY} charts, warm runner, Helm ${helm0}`
    const manyCache = await mkdtemp(path.join(TEMP_ROOT, 'tc-many-'))
    const manyContenders: Contender[] = [
      actionContender(ctx, 'many-action', 'action', {
        workspace,
        charts: 'many/*',
        namespace: 'many-action',
        helm: helm0,
        toolCache: manyCache,
        count: MANY
      })
    ]
    rows.push({
      scenario: manyScenario,
      contender: 'action (max-parallel 4, main + post)',
      key: 'many-action'
    })
    rows.push({
      scenario: manyScenario,
      contender: 'action, main step only',
      key: 'many-action:main'
    })
    if (ctx.aws) {
      manyContenders.push(
        shellContender(ctx, 'many-shell', 'shell loop', {
          helm: await helmBinary(helm0),
          namespace: 'many-shell',
          chartDirs: manyDirs,
          login: true
        })
      )
      rows.push({
        scenario: manyScenario,
        contender: 'shell loop: login + package + push per chart',
        key: 'many-shell'
      })
    }
    await alternate(manyScenario, manyContenders, ITERATIONS, results)
  }

  // 4. Startup and size.
  const startup = SECTIONS.has('startup') ? await measureStartup(ctx) : []
  const size = bundleSize()

  // 5. Trace one warm run of each kind.
  if (!SECTIONS.has('trace')) return report(rows, results, startup, size, [])
  progress('\ntrace: one warm run with stamped log lines and a timing helm wrapper')
  const traces = [
    await traceRun(ctx, `1 chart, Helm ${helm0}`, {
      workspace,
      charts: 'charts/bench-one',
      namespace: `one${v0}-action`,
      helm: helm0,
      count: 1
    }),
    await traceRun(ctx, `${MANY} charts, Helm ${helm0}`, {
      workspace,
      charts: 'many/*',
      namespace: 'many-action',
      helm: helm0,
      count: MANY
    }),
    await traceRun(ctx, `1 chart, Helm ${helm0}, empty tool cache`, {
      workspace,
      charts: 'charts/bench-one',
      namespace: `cold${v0}-action`,
      helm: helm0,
      count: 1,
      cold: true
    })
  ]

  return report(rows, results, startup, size, traces)
}

function samplesOf(results: Results, key: string): number[] {
  const [base, part] = key.split(':')
  return (results.get(base) ?? []).map(s => (part === 'main' ? (s.mainMs ?? NaN) : s.ms))
}

function report(
  rows: Row[],
  results: Results,
  startup: StartupRow[],
  size: BundleSize,
  traces: Trace[]
): string {
  const med = (key: string) => {
    const xs = samplesOf(results, key)
    return xs.length ? median(xs) : NaN
  }
  const h0 = HELMS[0].replace(/\./g, '')

  // Contender table.
  const installer = med('cold-action') - med('cold-warm')
  const table: string[][] = [['Scenario', 'Contender', 'Median', 'Min', 'n']]
  for (const r of rows) {
    if (r.key === 'cold-installer') {
      table.push([r.scenario, r.contender, fmtMs(installer), '', ''])
      continue
    }
    const xs = samplesOf(results, r.key)
    table.push([
      r.scenario,
      r.contender,
      fmtMs(median(xs)),
      fmtMs(Math.min(...xs)),
      String(xs.length)
    ])
  }
  for (const s of startup) {
    table.push([
      'startup: first log line',
      s.node,
      fmtMs(median(s.actionMs)),
      fmtMs(Math.min(...s.actionMs)),
      String(s.actionMs.length)
    ])
    table.push([
      'startup: first log line',
      `${s.node.replace(/ \(.*/, '')}: node -e console.log (floor)`,
      fmtMs(median(s.floorMs)),
      fmtMs(Math.min(...s.floorMs)),
      String(s.floorMs.length)
    ])
  }

  // Ratios and targets.
  const ratioRows: string[][] = [['Comparison', 'Ratio', 'Target', '']]
  const ratio = (label: string, a: number, b: number, target?: number) => {
    if (!Number.isFinite(a) || !Number.isFinite(b)) return
    const r = a / b
    ratioRows.push([
      label,
      `${r.toFixed(2)}×`,
      target === undefined ? '' : `≤ ${target}×`,
      target === undefined ? '' : r <= target ? 'met' : 'missed'
    ])
  }
  for (const helm of HELMS) {
    const v = helm.replace(/\./g, '')
    const main = v === h0
    ratio(
      `1 chart warm, Helm ${helm}: action / shell`,
      med(`action-${v}`),
      med(`shell-${v}`),
      main ? 0.5 : undefined
    )
    ratio(
      `1 chart warm, Helm ${helm}: action / floor`,
      med(`action-${v}`),
      med(`floor-${v}`),
      main ? 1.3 : undefined
    )
    ratio(
      `1 chart warm, Helm ${helm}: action main step / shell`,
      med(`action-${v}:main`),
      med(`shell-${v}`)
    )
    ratio(
      `1 chart warm, Helm ${helm}: action main step / floor`,
      med(`action-${v}:main`),
      med(`floor-${v}`)
    )
  }
  ratio(`cold: installer part / curl + sha256sum + tar`, installer, med('cold-curl'))
  ratio(`cold: whole run, empty / warm tool cache`, med('cold-action'), med('cold-warm'))
  ratio(`${MANY} charts: action / shell loop`, med('many-action'), med('many-shell'), 0.35)
  const s0 = startup[0]
  if (s0) {
    const m = median(s0.actionMs)
    ratioRows.push([`startup, ${s0.node}`, fmtMs(m), '≤ 150 ms', m <= 150 ? 'met' : 'missed'])
  }

  const lazyTotal = size.lazy.reduce((a, f) => a + f.bytes, 0)
  const startupTotal = size.startup.reduce((a, f) => a + f.bytes, 0)
  const sizeLines = [
    `dist/ on disk: ${fmtBytes(size.total)} in total`,
    `loaded before the first log line: ${fmtBytes(startupTotal)} (${size.startup.map(f => `${f.file} ${fmtBytes(f.bytes)}`).join(', ')})`,
    `lazy chunks: ${fmtBytes(lazyTotal)} (${size.lazy.map(f => `${f.file} ${fmtBytes(f.bytes)}`).join(', ')})`,
    `source maps ${fmtBytes(size.maps)}, post step ${fmtBytes(size.post)}, other (licenses, package.json) ${fmtBytes(size.other)}`
  ]

  const cpus = os.cpus()
  const machine = `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Linux ${os.release()}; load average ${LOAD_AT_START} at the start`
  const date = new Date().toISOString().slice(0, 10)
  const commit = distAt
  const env = ['BENCH_ITERATIONS', 'BENCH_HELM', 'BENCH_STARTUP_SAMPLES', 'BENCH_AWS', 'BENCH_ONLY']
    .filter(name => process.env[name])
    .map(name => `${name}=${process.env[name]} `)
    .join('')
  const command = `${env}npm run bench`

  // Plain text.
  console.log('\n══ npm run bench ═══════════════════════════════════════════════════════════')
  console.log(
    `  ${date}, dist/ of ${commit}; ${machine}; ${ITERATIONS} iterations per contender, alternated, after one warm-up each`
  )
  console.log()
  console.log(textTable(table))
  console.log()
  console.log(textTable(ratioRows))
  console.log()
  for (const l of sizeLines) console.log(`  ${l}`)
  for (const n of notes) console.log(`  note: ${n}`)
  for (const t of traces) {
    console.log(
      `\n── Where the time goes: one traced warm run, ${t.title} (ms since node started) ──`
    )
    console.log('  main step:')
    printTimeline(t.main)
    console.log('  post step:')
    printTimeline(t.post)
    for (const l of summarizeHelm(t)) console.log(`  ${l}`)
  }

  // Markdown.
  const md = (rowsIn: string[][]) => {
    const [head, ...body] = rowsIn
    return [
      `| ${head.join(' | ')} |`,
      `| ${head.map(() => '---').join(' | ')} |`,
      ...body.map(r => `| ${r.map(c => c.replace(/\|/g, '\\|')).join(' | ')} |`)
    ].join('\n')
  }
  const markdown = [
    `Measured ${date} with \`${command}\` (dist/ of ${commit}) on ${machine}: ${ITERATIONS} iterations per contender, alternated in one run after one warm-up each; medians. Local stack: ECR emulator (SigV4-checked API), Debian's docker-registry, a get.helm.sh-layout mirror on 127.0.0.1; the shell pipeline is [\`scripts/bench/publish.sh\`](scripts/bench/publish.sh) with Debian's \`awscli\` (\`--endpoint-url\`), the same Helm binary for every contender, and a fresh Helm home per run.`,
    '',
    md(table),
    '',
    md(ratioRows),
    '',
    ...sizeLines.map(l => `- ${l}`),
    ...notes.map(n => `- ${n}`),
    ...(traces[0]
      ? [
          '',
          `${traceSentence(traces[0])} The bench prints the full timelines (log lines, ECR calls and every Helm process it starts).`
        ]
      : []),
    '',
    'Knobs: `BENCH_ITERATIONS` (7), `BENCH_HELM` (`4.1.4,3.18.0`), `BENCH_ONLY` (`one,cold,many,startup,trace`), `BENCH_STARTUP_SAMPLES` (15), `BENCH_AWS` (`/usr/bin/aws`); `npm run bench -- --readme` rewrites this section.'
  ].join('\n')
  console.log('\n── Markdown (README) ───────────────────────────────────────────────────────\n')
  console.log(markdown)
  return markdown
}

/** The commit dist/ was measured at, with "+changes" when dist/ differs from it. */
function distCommit(): string {
  const git = (args: string[]) =>
    spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).stdout?.trim() ?? ''
  const head = git(['rev-parse', '--short', 'HEAD']) || 'unknown'
  return git(['status', '--porcelain', '--', 'dist']) ? `${head}+changes` : head
}

async function writeReadme(markdown: string): Promise<void> {
  const file = path.join(REPO_ROOT, 'README.md')
  const text = await readFile(file, 'utf8')
  const re = /(<!-- bench:begin -->\n)[\s\S]*?(<!-- bench:end -->)/
  if (!re.test(text))
    throw new Error('README.md has no <!-- bench:begin --> … <!-- bench:end --> section')
  const updated = text.replace(re, (_, a: string, b: string) => `${a}\n${markdown}\n\n${b}`)
  // Formatted as npm run lint expects (Prettier aligns the tables).
  const options = (await prettier.resolveConfig(file)) ?? {}
  await writeFile(file, await prettier.format(updated, { ...options, filepath: file }))
  console.log('\nREADME.md: bench section updated')
}

async function main(): Promise<number> {
  const started = performance.now()
  const aws = aptTool(process.env.BENCH_AWS ?? '/usr/bin/aws', 'awscli')
  const curl = aptTool('/usr/bin/curl', 'curl')
  distAt = distCommit()
  dist = await snapshotDist(path.join(REPO_ROOT, 'dist'), path.join(TEMP_ROOT, 'dist'))
  progress(
    `Starting the stack (Helm ${HELMS.join(', ')}; action runs with ${path.relative(REPO_ROOT, actionNode()) || actionNode()}) ...`
  )
  let markdown = ''
  const code = await withStack('bench', { helmVersions: HELMS }, async stack => {
    markdown = await bench({ stack, aws, curl })
  })
  if (code !== 0) return code
  if (WRITE_README) await writeReadme(markdown)
  progress(`\nbench done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  return 0
}

process.exit(await main())
