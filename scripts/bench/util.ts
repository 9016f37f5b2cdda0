/** Small helpers of `npm run bench`: progress lines, medians, formatting, processes, apt tools. */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { REPO_ROOT } from '../../testbed/paths.js'
import { trackChild } from '../../testbed/processes.js'

/** A progress line on stderr (stdout holds the report). */
export function progress(text: string): void {
  process.stderr.write(`${text}\n`)
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`
}

export function fmtBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MiB` : `${(n / 1024).toFixed(0)} KiB`
}

export interface Exec {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a command to its end with `input` on stdin; resolves with its exit code and output. */
export function exec(
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

export function lastLines(text: string, n = 6): string {
  return text.trim().split('\n').slice(-n).join('\n')
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * An apt tool: present, or installed with apt-get when root; undefined otherwise, with a note for
 * the report in `notes`.
 */
export function aptTool(binary: string, aptPackage: string, notes: string[]): string | undefined {
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

/** The commit dist/ is measured at, with "+changes" when dist/ differs from it. */
export function distCommit(): string {
  const git = (args: string[]) =>
    spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).stdout?.trim() ?? ''
  const head = git(['rev-parse', '--short', 'HEAD']) || 'unknown'
  return git(['status', '--porcelain', '--', 'dist']) ? `${head}+changes` : head
}
