import * as exec from '@actions/exec'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import semver from 'semver'
import { childEnv } from '../runtime/child-env.js'
import {
  HelmCommandError,
  helmWarnings,
  parseDigest,
  parsePackageOutput,
  parsePushOutput,
  type HelmResult,
  type PushResult
} from './helm-output.js'
import type { TlsOptions } from '../config/inputs.js'

/** First Helm version that has each registry flag (see shared/notes/helm-ecr-facts.md 1.1, 1.2). */
const PUSH_FLAGS = { plainHttp: '3.13.0', caFile: '3.12.0', insecure: '3.12.0' } as const
const FLAG_SINCE = {
  login: { plainHttp: '3.18.0', caFile: '3.12.0', insecure: '3.8.0' },
  push: PUSH_FLAGS,
  pull: PUSH_FLAGS // pull got the registry flags with push
} as const

type Command = keyof typeof FLAG_SINCE

export interface HelmOptions {
  /** Absolute path of the helm executable. */
  path: string
  /** As `helm version` prints it, e.g. v3.18.0: decides which flags exist. */
  version: string
  /** The environment of every Helm process; only its allow-listed part is passed (child-env.ts). */
  env: Record<string, string>
  /** The registry TLS inputs; none by default. */
  tls?: TlsOptions
  /** Receives each command line (for debug logs). */
  log?: (line: string) => void
  /** Receives each of Helm's own warnings, once (see helmWarnings). */
  warn?: (line: string) => void
}

/** The Helm CLI: one method per command, exact argv, secrets only on stdin. */
export class Helm {
  readonly path: string
  readonly version: string
  /** Semver of the binary, without the v. */
  readonly semver: string
  private readonly env: Record<string, string>
  private readonly tls: TlsOptions
  private readonly log: (line: string) => void
  private readonly warn: (line: string) => void
  private readonly warned = new Set<string>()

  constructor(options: HelmOptions) {
    this.path = options.path
    this.version = options.version
    this.semver = options.version.replace(/^v/, '')
    this.env = options.env
    this.tls = options.tls ?? { plainHttp: false, insecureSkipTlsVerify: false }
    this.log = options.log ?? (() => {})
    this.warn = options.warn ?? (() => {})
  }

  private supports(command: Command, flag: keyof (typeof FLAG_SINCE)['login']): boolean {
    return semver.gte(this.semver, FLAG_SINCE[command][flag])
  }

  /** The TLS flags this Helm version understands for a registry command. */
  registryFlags(command: Command): string[] {
    const flags: string[] = []
    if (this.tls.plainHttp && this.supports(command, 'plainHttp')) flags.push('--plain-http')
    // Before 3.18, login has no --plain-http; --insecure lets it fall back to HTTP.
    const plainLoginFallback =
      command === 'login' && this.tls.plainHttp && !this.supports(command, 'plainHttp')
    if (
      (this.tls.insecureSkipTlsVerify || plainLoginFallback) &&
      this.supports(command, 'insecure')
    ) {
      flags.push(command === 'login' ? '--insecure' : '--insecure-skip-tls-verify')
    }
    if (this.tls.caFile && this.supports(command, 'caFile'))
      flags.push('--ca-file', this.tls.caFile)
    return flags
  }

  /** Flags the user asked for that this Helm cannot pass (for a warning). */
  unsupportedTlsInputs(): string[] {
    const missing: string[] = []
    if (this.tls.plainHttp && !this.supports('push', 'plainHttp'))
      missing.push('plain-http (Helm 3.13+)')
    if (this.tls.caFile && !this.supports('push', 'caFile')) missing.push('ca-file (Helm 3.12+)')
    if (this.tls.insecureSkipTlsVerify && !this.supports('push', 'insecure')) {
      missing.push('insecure-skip-tls-verify (Helm 3.12+)')
    }
    return missing
  }

  /** A variable of the environment Helm runs with (e.g. HELM_REGISTRY_CONFIG). */
  envValue(name: string): string | undefined {
    return this.env[name]
  }

  /** Runs Helm; `env` is laid over its environment for this command only. */
  async run(args: string[], input?: string, env: Record<string, string> = {}): Promise<HelmResult> {
    this.log(`helm ${args.join(' ')}`)
    const result = await exec.getExecOutput(this.path, args, {
      ignoreReturnCode: true,
      silent: true,
      env: childEnv(this.env, env),
      input: input === undefined ? undefined : Buffer.from(input)
    })
    for (const warning of helmWarnings(`${result.stderr}\n${result.stdout}`)) {
      if (this.warned.has(warning)) continue
      this.warned.add(warning)
      this.warn(warning)
    }
    return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }
  }

  private async runOrThrow(
    command: string,
    args: string[],
    input?: string,
    env?: Record<string, string>
  ): Promise<HelmResult> {
    const result = await this.run(args, input, env)
    if (result.exitCode !== 0) throw new HelmCommandError(command, result)
    return result
  }

  loginArgs(host: string, username: string): string[] {
    return [
      'registry',
      'login',
      host,
      '--username',
      username,
      '--password-stdin',
      ...this.registryFlags('login')
    ]
  }

  /** The password goes on standard input only, never in argv. */
  async registryLogin(host: string, username: string, password: string): Promise<void> {
    await this.runOrThrow('registry login', this.loginArgs(host, username), password)
  }

  /**
   * `helm dependency build` (with a lock) or `update` (without one), with `env` for this command
   * (the job-private repository config and cache). Returns what Helm printed.
   */
  async dependencyBuild(
    chartDir: string,
    hasLock: boolean,
    env: Record<string, string> = {}
  ): Promise<HelmResult> {
    const command = hasLock ? 'build' : 'update'
    return this.runOrThrow(
      `dependency ${command}`,
      ['dependency', command, chartDir],
      undefined,
      env
    )
  }

  packageArgs(
    chartDir: string,
    destination: string,
    version?: string,
    appVersion?: string
  ): string[] {
    const args = ['package', chartDir, '--destination', destination]
    if (version) args.push('--version', version)
    if (appVersion) args.push('--app-version', appVersion)
    return args
  }

  /** Returns the path of the packaged archive; `inspect` sees what Helm printed. */
  async package(
    chartDir: string,
    destination: string,
    version?: string,
    appVersion?: string,
    inspect: (output: string) => void = () => {}
  ): Promise<string> {
    const result = await this.runOrThrow(
      'package',
      this.packageArgs(chartDir, destination, version, appVersion)
    )
    inspect(`${result.stdout}\n${result.stderr}`)
    const archive = parsePackageOutput(result.stdout)
    if (!archive) throw new HelmCommandError('package', { ...result, exitCode: 1 })
    return archive
  }

  pushArgs(archive: string, remote: string): string[] {
    return ['push', archive, remote, ...this.registryFlags('push')]
  }

  /**
   * Push to the in-process registry of a dry run (127.0.0.1, plain HTTP, no login): Helm 3.13+
   * get --plain-http; 3.8–3.12 use plain HTTP to loopback by themselves. The user's TLS inputs do
   * not apply (with them, Helm would ignore --plain-http).
   */
  localPushArgs(archive: string, remote: string): string[] {
    const plainHttp = semver.gte(this.semver, PUSH_FLAGS.plainHttp) ? ['--plain-http'] : []
    return ['push', archive, remote, ...plainHttp]
  }

  async push(archive: string, remote: string, local = false): Promise<PushResult> {
    const args = local ? this.localPushArgs(archive, remote) : this.pushArgs(archive, remote)
    const result = await this.runOrThrow('push', args)
    const parsed = parsePushOutput(`${result.stdout}\n${result.stderr}`)
    if (!parsed) {
      throw new HelmCommandError('push', {
        ...result,
        stderr: `${result.stderr}\nhelm push printed no "Pushed:" and "Digest:" lines`
      })
    }
    return parsed
  }

  /**
   * `helm pull REMOTE/CHART --version VERSION` into `destination` (an empty directory): the
   * manifest digest and the archive's path; undefined when the tag or repository does not exist.
   */
  async pull(
    remote: string,
    chart: string,
    version: string,
    destination: string,
    options: { provenance?: boolean } = {}
  ): Promise<{ digest?: string; archive: string; provenance?: string } | undefined> {
    const result = await this.run([
      'pull',
      `${remote}/${chart}`,
      '--version',
      version,
      '--destination',
      destination,
      // --prov: the .prov too, when the chart has one (unverified; absent is only a warning).
      ...(options.provenance ? ['--prov'] : []),
      ...this.registryFlags('pull')
    ])
    if (result.exitCode === 0) {
      const files: string[] = await fs.readdir(destination).catch(() => [])
      const file = files.find(name => name.endsWith('.tgz'))
      const archive = path.join(destination, file ?? `${chart}-${version}.tgz`)
      return {
        digest: parseDigest(`${result.stdout}\n${result.stderr}`),
        archive,
        provenance: files.includes(`${path.basename(archive)}.prov`) ? `${archive}.prov` : undefined
      }
    }
    if (/not found|name unknown|manifest unknown/i.test(`${result.stdout}\n${result.stderr}`)) {
      return undefined
    }
    throw new HelmCommandError('pull', result)
  }

  /** `helm lint A B …` (one process for several charts): lint.ts splits and parses the output. */
  async lint(targets: string[]): Promise<HelmResult> {
    return this.run(['lint', ...targets])
  }

  /** Chart.yaml of a packaged archive. */
  async showChart(archive: string): Promise<string> {
    return (await this.runOrThrow('show chart', ['show', 'chart', archive])).stdout
  }
}
