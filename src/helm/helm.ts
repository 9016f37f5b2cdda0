import * as exec from '@actions/exec'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import semver from 'semver'
import { childEnv } from '../runtime/child-env.js'
import { oneLine } from '../errors.js'
import type { TlsOptions } from '../config/inputs.js'

/** What one Helm process printed. Helm's registry messages go to stdout or stderr by version. */
export interface HelmResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface PushResult {
  /** `HOST/NS/CHART:TAG`, as Helm printed it after `Pushed:` (no oci:// prefix). */
  pushed: string
  digest: string
}

/** First Helm version that has each registry flag (see shared/notes/helm-ecr-facts.md 1.1, 1.2). */
const PUSH_FLAGS = { plainHttp: '3.13.0', caFile: '3.12.0', insecure: '3.12.0' } as const
const FLAG_SINCE = {
  login: { plainHttp: '3.18.0', caFile: '3.12.0', insecure: '3.8.0' },
  push: PUSH_FLAGS,
  pull: PUSH_FLAGS // pull got the registry flags with push
} as const

type Command = keyof typeof FLAG_SINCE

export type HelmErrorKind =
  | 'missing-repository'
  | 'immutable'
  /** Helm 3.8–3.17 (ORAS v1) hide the registry's reason for a refused manifest; ECR's is an immutable tag. */
  | 'manifest-refused'
  | 'auth'
  | 'transient'
  | 'other'

/**
 * Sorts a failed registry command by what a person must do about it. Texts come from
 * Helm 3.9 (ORAS v1), 3.18+/4 (ORAS v2) and ECR's registry errors (see __tests__/fixtures).
 */
export function classifyHelmError(raw: string): HelmErrorKind {
  // URLs and quoted names carry the user's namespace and chart name ("immutable-charts",
  // "denied-app"): they must not decide the kind. The registry's own words remain.
  const output = raw.replace(/https?:\/\/\S+/g, '<url>').replace(/'[^'\n]*'/g, "'…'")
  if (
    /name unknown|NAME_UNKNOWN|repository with name .* does not exist|repository .* not found/i.test(
      output
    )
  ) {
    return 'missing-repository'
  }
  // Helm 3.8–3.17 print only the status of a push to a repository that does not exist. A 404 on
  // the manifest ("failed commit on ref ...: unexpected status: 404") is something else.
  if (/^(Error: )?unexpected status: 404 Not Found\s*$/im.test(output)) return 'missing-repository'
  if (/immutable|tag invalid|TAG_INVALID/i.test(output)) return 'immutable'
  if (/failed commit on ref "manifest-[^"]*": unexpected status: 400/i.test(output)) {
    return 'manifest-refused'
  }
  if (
    /unauthorized|authentication required|status code 40[13]\b|\b40[13] (Unauthorized|Forbidden)|denied|basic credential not found|no basic auth credentials/i.test(
      output
    )
  ) {
    return 'auth'
  }
  // Helm 3.18 prints the Tag-step flake without oras' prefix: "Error: sha256:<digest>: not found".
  // Two runs pushing the same chart at once upload the same blobs: one run's manifest can name
  // a blob the other's upload has not finished ("manifest blob unknown"); a retry finds it.
  if (
    /status code (5\d\d|429|408)\b|\b(500|502|503|504) (Internal|Bad Gateway|Service Unavailable|Gateway Timeout)|too many requests|toomanyrequests|connection reset|connection refused|broken pipe|unexpected EOF|\bEOF\b|i\/o timeout|TLS handshake timeout|timeout awaiting|server misbehaving|"Tag" on destination.*not found|manifest blob unknown|blob unknown to registry|(^|Error: )sha256:[a-f0-9]{64}: not found/im.test(
      output
    )
  ) {
    return 'transient'
  }
  return 'other'
}

/** The manifest digest Helm prints after a push or pull (`Digest: sha256:…`). */
export function parseDigest(output: string): string | undefined {
  return /^Digest:\s*(sha256:[a-f0-9]{64})\s*$/m.exec(output)?.[1]
}

export function parsePushOutput(output: string): PushResult | undefined {
  const pushed = /^Pushed:\s*(\S+)\s*$/m.exec(output)?.[1]
  const digest = parseDigest(output)
  return pushed && digest ? { pushed, digest } : undefined
}

/** `helm package` prints the archive path on stdout. */
export function parsePackageOutput(stdout: string): string | undefined {
  return /Successfully packaged chart and saved it to:\s*(.+?)\s*$/m.exec(stdout)?.[1]
}

/** The most useful line of a Helm failure: the `Error:` line, else the last non-empty line. */
export function helmErrorLine(result: HelmResult): string {
  const text = `${result.stderr}\n${result.stdout}`
  const lines = text
    .split(/\r?\n/)
    .map(l => l.trim())
    .filter(Boolean)
  const errorLine = lines.find(l => l.startsWith('Error:'))
  return oneLine(
    (errorLine ?? lines.at(-1) ?? `helm exited with code ${result.exitCode}`).replace(
      /^Error:\s*/,
      ''
    )
  )
}

/**
 * Helm's own warnings in its output, one line each, as a person should read them: Helm 3's
 * `WARNING: …` and log lines (`walk.go:74: found symbolic link in path: …`), and Helm 4's slog
 * lines at level WARN (`level=WARN msg="…" key=value`) or about symbolic links (Helm 4 logs those
 * at INFO, but they say that a file's content comes from elsewhere).
 */
export function helmWarnings(output: string): string[] {
  const warnings: string[] = []
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.trim()
    const slog = /^(?:time=\S+ )?level=(\w+) msg=("(?:[^"\\]|\\.)*"|\S+)\s*(.*)$/.exec(line)
    if (slog) {
      const [, level, msg, rest] = slog
      if (level !== 'WARN' && !/symbolic link/.test(msg)) continue
      const text = msg.startsWith('"') ? (JSON.parse(msg) as string) : msg
      warnings.push(oneLine(`${text}${rest ? ` (${rest})` : ''}`))
    } else if (/^WARNING:/i.test(line)) {
      warnings.push(oneLine(line.replace(/^WARNING:\s*/i, '')))
    } else if (/found symbolic link/.test(line)) {
      warnings.push(oneLine(line.replace(/^(\S+\.go:\d+:\s*)/, '')))
    }
  }
  return [...new Set(warnings)]
}

/**
 * The targets of the symbolic links Helm says it followed (Helm 3: `found symbolic link in path:
 * P resolves to T.`; Helm 4: `msg="found symbolic link in path…" path=P resolved=T`). A report
 * whose target cannot be read gives ''.
 */
export function followedLinks(output: string): string[] {
  const targets: string[] = []
  for (const line of output.split(/\r?\n/)) {
    if (!/found symbolic link/.test(line)) continue
    const target =
      /resolves to (.+?)\. Contents of linked file/.exec(line)?.[1] ??
      /\bresolved=("(?:[^"\\]|\\.)*"|\S+)/.exec(line)?.[1]
    targets.push(target?.startsWith('"') ? (JSON.parse(target) as string) : (target ?? ''))
  }
  return targets
}

/**
 * The password as `helm registry login --password-stdin` keeps it: Helm reads all of stdin, then
 * trims one trailing "\n" and then one trailing "\r" (shared/notes/helm-ecr-facts.md 1.1).
 */
export function passwordFromStdin(input: string): string {
  return input.replace(/\n$/, '').replace(/\r$/, '')
}

/**
 * Every form of a login's secret that can reach a log: the password as given and as Helm keeps
 * it, and the `auth` value Helm writes to the registry config, base64(user:password) of the
 * password as Helm keeps it (and of the password as given, in case a Helm ever stops trimming).
 */
export function loginSecrets(username: string, password: string): string[] {
  const kept = passwordFromStdin(password)
  const auth = (p: string) => Buffer.from(`${username}:${p}`).toString('base64')
  return [...new Set([password, kept, auth(kept), auth(password)])].filter(s => s !== '')
}

export class HelmCommandError extends Error {
  /** What Helm said went wrong, without the "helm COMMAND failed:" prefix of the message. */
  readonly reason: string

  constructor(
    readonly command: string,
    readonly result: HelmResult
  ) {
    const reason = helmErrorLine(result)
    super(`helm ${command} failed: ${reason}`)
    this.name = 'HelmCommandError'
    this.reason = reason
  }

  get kind(): HelmErrorKind {
    return classifyHelmError(`${this.result.stdout}\n${this.result.stderr}`)
  }
}

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
