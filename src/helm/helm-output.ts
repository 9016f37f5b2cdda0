import { oneLine } from '../errors.js'

/* What Helm prints, read: results, errors by kind, digests, warnings, followed links, and the
   secrets a login leaves in Helm's config. */

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
