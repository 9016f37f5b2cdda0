/**
 * Runs a real Helm binary in an isolated environment: temp HOME, HELM_* dirs, registry config
 * and DOCKER_CONFIG, so no machine state leaks in or out; SSL_CERT_FILE trusts the test CA.
 */
import { spawn } from 'node:child_process'
import { mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { helmBinary } from './helm-binaries.js'
import { makeTempDir } from './paths.js'
import { trackChild } from './processes.js'

export interface HelmResult {
  exitCode: number | null
  stdout: string
  stderr: string
  /** stdout + stderr, for matching text regardless of stream. */
  output: string
  args: string[]
}

export interface HelmCli {
  version: string
  binary: string
  home: string
  env: Record<string, string>
  /** Runs `helm ...args`; `input` goes to stdin (for --password-stdin). Never throws on exit code. */
  run(
    args: string[],
    opts?: { input?: string; cwd?: string; timeoutMs?: number }
  ): Promise<HelmResult>
  /** `helm registry login HOST --username U --password-stdin` (password on stdin only). */
  login(host: string, username: string, password: string, extra?: string[]): Promise<HelmResult>
  cleanup(): Promise<void>
}

export async function helmCli(version: string, opts: { caFile?: string } = {}): Promise<HelmCli> {
  const binary = await helmBinary(version)
  const home = await makeTempDir(`helm-${version}`)
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_DATA_HOME: path.join(home, 'data'),
    HELM_REGISTRY_CONFIG: path.join(home, 'config', 'registry', 'config.json'),
    DOCKER_CONFIG: path.join(home, 'docker')
  }
  if (opts.caFile) env.SSL_CERT_FILE = opts.caFile
  await Promise.all([mkdir(env.DOCKER_CONFIG, { recursive: true })])

  const run: HelmCli['run'] = (args, runOpts = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(binary, args, {
        cwd: runOpts.cwd ?? home,
        env,
        stdio: ['pipe', 'pipe', 'pipe']
      })
      trackChild(child)
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      const timer = setTimeout(() => child.kill('SIGKILL'), runOpts.timeoutMs ?? 90_000)
      child.on('error', error => {
        clearTimeout(timer)
        reject(error)
      })
      child.on('close', exitCode => {
        clearTimeout(timer)
        resolve({ exitCode, stdout, stderr, output: `${stdout}\n${stderr}`, args })
      })
      child.stdin.on('error', () => undefined)
      child.stdin.end(runOpts.input ?? '')
    })

  return {
    version,
    binary,
    home,
    env,
    run,
    login: (host, username, password, extra = []) =>
      run(['registry', 'login', host, '--username', username, '--password-stdin', ...extra], {
        input: `${password}\n`
      }),
    cleanup: () => rm(home, { recursive: true, force: true })
  }
}
