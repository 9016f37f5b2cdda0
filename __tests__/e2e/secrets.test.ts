/**
 * Security: the registry password never leaves the places it must be. A recording Helm wrapper in
 * the tool cache logs every Helm process (argv and environment); fake docker-credential-* helpers
 * on PATH log any call. After main and post (also with ACTIONS_STEP_DEBUG=true), the password and
 * the token must be absent from every argv, every Helm environment, stdout/stderr (except the
 * runner's `::add-mask::` commands, which the runner consumes), outputs, summary, exported
 * variables and every file left under HOME and RUNNER_TEMP; the exported HELM_REGISTRY_CONFIG is
 * gone, and no credential helper ever ran.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gpgHome } from '../../testbed/gpg.js'
import { helmCli } from '../../testbed/helm-cli.js'
import { ALL_HELM_VERSIONS, HELM_VERSIONS, helmBinary } from '../../testbed/helm-binaries.js'
import { startChartRepo } from '../../testbed/chart-repo.js'
import { archiveName } from '../../testbed/helm-mirror.js'
import { makeTempDir, REPO_ROOT } from '../../testbed/paths.js'
import {
  annotations,
  errorLines,
  runAction,
  type RunActionOptions,
  type RunActionResult
} from '../../testbed/runner.js'
import { createRepository, filesBelow, workspaceWith } from '../../testbed/scenario.js'
import { startStack, type Stack } from '../../testbed/stack.js'
import { recordingToolCache } from '../../testbed/tool-cache.js'

/** Every ECR password the emulator issues (random per token). */
const ECR_PASSWORD = /ecr-e2e-[A-Za-z0-9_-]{20,}/
/** base64("AWS:ecr-e2e-"): the start of every authorization token and of Helm's stored auth. */
const ECR_TOKEN = new RegExp(Buffer.from('AWS:ecr-e2e-').toString('base64'))
const CREDENTIAL_HELPERS = ['docker-credential-secretservice', 'docker-credential-pass']

let stack: Stack
let recordDir: string
let argvLog: string
let helperLog: string
let fakeBin: string
let toolCache: string
let workspace: string

beforeAll(async () => {
  stack = await startStack({ tlsRegistry: true })
  // Outside every run's HOME and RUNNER_TEMP, so the scan of those does not see the records.
  recordDir = await makeTempDir('record')
  argvLog = path.join(recordDir, 'helm-calls.jsonl')
  helperLog = path.join(recordDir, 'credential-helpers.log')
  await writeFile(argvLog, '')
  await writeFile(helperLog, '')
  fakeBin = path.join(recordDir, 'bin')
  await mkdir(fakeBin)
  for (const helper of CREDENTIAL_HELPERS) {
    const file = path.join(fakeBin, helper)
    await writeFile(
      file,
      `#!/bin/sh\necho "${helper} $*" >> ${JSON.stringify(helperLog)}\ncat > /dev/null\nexit 0\n`
    )
    await chmod(file, 0o755)
  }
  toolCache = await recordingToolCache(ALL_HELM_VERSIONS, argvLog)
  workspace = await workspaceWith([{ name: 'secretive', version: '0.1.0' }])
  await createRepository(stack, 'hygiene/secretive')
})
afterAll(async () => {
  await stack?.stop()
})

interface HelmCall {
  argv: string[]
  env: Record<string, string>
}

async function helmCalls(): Promise<HelmCall[]> {
  const text = await readFile(argvLog, 'utf8')
  return text
    .split('\n')
    .filter(Boolean)
    .map(line => JSON.parse(line) as HelmCall)
}

async function helperCalls(): Promise<string[]> {
  return (await readFile(helperLog, 'utf8')).split('\n').filter(Boolean)
}

/** The secrets found in `text`, as `where: match` (the match shortened). */
function findSecrets(where: string, text: string, patterns: RegExp[]): string[] {
  const found: string[] = []
  for (const p of patterns) {
    const m = new RegExp(p.source, 'g').exec(text)
    if (m) found.push(`${where}: ${m[0].slice(0, 16)}…`)
  }
  return found
}

/** Log lines a person can see: all but the `::add-mask::` commands the runner consumes. */
function visibleLines(stdout: string): string {
  return stdout
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
}

/**
 * Scans everything a run leaves behind or shows for the secret patterns; returns the findings
 * (empty when clean).
 */
async function leaks(
  result: RunActionResult,
  calls: HelmCall[],
  patterns: RegExp[]
): Promise<string[]> {
  const found: string[] = []
  calls.forEach((call, i) => {
    found.push(...findSecrets(`helm call ${i} argv`, call.argv.join('\u0000'), patterns))
    found.push(...findSecrets(`helm call ${i} env`, Object.values(call.env).join('\n'), patterns))
  })
  found.push(...findSecrets('main stdout', visibleLines(result.stdout), patterns))
  found.push(...findSecrets('main stderr', result.stderr, patterns))
  found.push(...findSecrets('post stdout', visibleLines(result.post?.stdout ?? ''), patterns))
  found.push(...findSecrets('post stderr', result.post?.stderr ?? '', patterns))
  found.push(...findSecrets('outputs', JSON.stringify(result.outputs), patterns))
  found.push(...findSecrets('summary', result.summary, patterns))
  found.push(...findSecrets('exported env', JSON.stringify(result.exportedEnv), patterns))
  found.push(...findSecrets('state', JSON.stringify(result.state), patterns))
  for (const root of [result.dirs.home, result.dirs.runnerTemp]) {
    for (const file of await filesBelow(root)) {
      const bytes = await readFile(file)
      found.push(...findSecrets(file, bytes.toString('latin1'), patterns))
    }
  }
  return found
}

interface RecordedRun {
  result: RunActionResult
  /** Helm processes the run started. */
  calls: HelmCall[]
  /** Credential helper calls during the run. */
  helpers: string[]
}

/** What every clean run must show besides the absence of secrets. */
async function expectCleanRun({ result, calls, helpers }: RecordedRun): Promise<void> {
  expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
  expect(result.exitCode).toBe(0)
  expect(result.post?.exitCode).toBe(0)
  expect(annotations(result.post?.stdout ?? '', 'warning')).toEqual([])
  // Helm gets the allow-listed environment: no AWS credentials or settings, no runner tokens,
  // no inputs (the runs carry AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_ENDPOINT_URL_ECR).
  expect(calls.length).toBeGreaterThan(0)
  for (const call of calls) {
    expect(
      Object.keys(call.env).filter(
        name => /^(AWS_|ACTIONS_|INPUT_|GITHUB_|RUNNER_)/i.test(name) && name !== 'AWS_CA_BUNDLE'
      )
    ).toEqual([])
  }
  // The login went over stdin; post starts no Helm (it deletes the login with its directory).
  const login = calls.find(c => c.argv[0] === 'registry' && c.argv[1] === 'login')
  expect(login?.argv).toContain('--password-stdin')
  expect(login?.argv.some(a => a === '--password' || a === '-p')).toBe(false)
  expect(calls.filter(c => c.argv[0] === 'registry').map(c => c.argv[1])).toEqual(['login'])
  // The exported login is gone after post, with its whole private directory.
  const config = result.exportedEnv.HELM_REGISTRY_CONFIG
  expect(config).toBeTruthy()
  expect(existsSync(config)).toBe(false)
  expect(existsSync(path.dirname(path.dirname(config)))).toBe(false)
  expect(helpers).toEqual([])
}

async function recordedRun(
  inputs: Record<string, string>,
  options: { debug?: boolean; helmVersion: string }
): Promise<RecordedRun> {
  const before = (await helmCalls()).length
  const helpersBefore = (await helperCalls()).length
  const result = await runAction({
    workspace,
    toolCache,
    debug: options.debug,
    env: { ...stack.actionEnv, PATH: `${fakeBin}${path.delimiter}${process.env.PATH ?? ''}` },
    inputs: {
      charts: 'charts/secretive',
      'helm-version': options.helmVersion,
      'helm-download-url': stack.mirror.url,
      ...inputs
    }
  })
  return {
    result,
    calls: (await helmCalls()).slice(before),
    helpers: (await helperCalls()).slice(helpersBefore)
  }
}

let published = 0

describe.each(ALL_HELM_VERSIONS)('Helm %s', helmVersion => {
  it('positive control: unseeded, this Helm hands a login to docker-credential-secretservice', async () => {
    const helm = await helmCli(helmVersion, { caFile: stack.certs.caFile })
    const before = (await helperCalls()).length
    try {
      helm.env.PATH = `${fakeBin}${path.delimiter}${helm.env.PATH}`
      const token = stack.ecr.issueToken()
      const login = await helm.login(stack.ecr.registryHost, token.username, token.password)
      expect(login.exitCode, login.output).toBe(0)
      const calls = (await helperCalls()).slice(before)
      expect(calls.some(c => c.startsWith('docker-credential-secretservice store'))).toBe(true)
    } finally {
      await helm.cleanup()
    }
  })

  it.each([false, true])(
    'ECR token: absent everywhere after main and post (debug %s)',
    async debug => {
      published++
      const run = await recordedRun(
        { namespace: 'hygiene', version: `0.1.${published}` },
        { debug, helmVersion }
      )
      const { result, calls } = run
      await expectCleanRun(run)
      expect(result.outputs.pushed).toBe('true')
      if (debug) expect(result.stdout).toContain('::debug::')
      // The runner was told to mask both forms before anything could print them.
      const masks = result.stdout.split('\n').filter(l => l.startsWith('::add-mask::'))
      expect(masks.some(l => ECR_PASSWORD.test(l))).toBe(true)
      expect(masks.some(l => ECR_TOKEN.test(l))).toBe(true)
      expect(await leaks(result, calls, [ECR_PASSWORD, ECR_TOKEN])).toEqual([])
    }
  )
})

/** A runAction wrapCommand: each step runs under `strace -f`, its execs traced into `dir`. */
function straceInto(dir: string): NonNullable<RunActionOptions['wrapCommand']> {
  let step = 0
  return (command, args) => ({
    command: 'strace',
    args: [
      '-f',
      '-qq',
      '-v',
      '-s',
      '65535',
      '-e',
      'trace=execve,execveat',
      '-o',
      path.join(dir, `step-${step++}.trace`),
      command,
      ...args
    ]
  })
}

describe('username and password (a TLS registry with htpasswd)', () => {
  it.each([HELM_VERSIONS.v3_18, HELM_VERSIONS.v4])(
    'Helm %s: the password is absent everywhere after main and post (debug on)',
    async helmVersion => {
      const registry = stack.tlsRegistry!
      const secret = registry.password
      const basic = Buffer.from(`${registry.username}:${secret}`).toString('base64')
      const escape = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      const run = await recordedRun(
        {
          registry: registry.host,
          namespace: 'hygiene',
          username: registry.username,
          password: secret,
          'ca-file': stack.certs.caFile,
          version: `0.2.${++published}`
        },
        { debug: true, helmVersion }
      )
      const { result, calls } = run
      await expectCleanRun(run)
      expect(result.outputs.ref).toBe(
        `oci://${registry.host}/hygiene/secretive:${result.outputs.version}`
      )
      // Nothing went to the AWS emulator.
      expect(await leaks(result, calls, [escape(secret), escape(basic)])).toEqual([])
    }
  )
})

const strace = (() => {
  try {
    execFileSync('strace', ['-f', '-qq', '-e', 'trace=none', 'true'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

describe('every process the action starts', () => {
  it.skipIf(!strace)(
    'strace -f of main and post: no execve carries the ECR password or token, in argv or environment',
    async () => {
      const traceDir = await makeTempDir('strace')
      const result = await runAction({
        workspace,
        toolCache,
        env: stack.actionEnv,
        inputs: {
          charts: 'charts/secretive',
          namespace: 'hygiene',
          version: `0.3.${++published}`,
          'helm-version': HELM_VERSIONS.v4,
          'helm-download-url': stack.mirror.url
        },
        wrapCommand: straceInto(traceDir)
      })
      expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
      expect(result.exitCode).toBe(0)
      const trace = (
        await Promise.all((await filesBelow(traceDir)).map(f => readFile(f, 'utf8')))
      ).join('\n')
      const execs = trace.split('\n').filter(l => /execve(at)?\(/.test(l))
      // node, the recording wrapper, its node, the real helm: several processes per Helm call.
      expect(execs.filter(l => l.includes('"registry", "login"')).length).toBeGreaterThan(0)
      expect(execs.filter(l => l.includes('"push"')).length).toBeGreaterThan(0)
      expect(findSecrets('strace', trace, [ECR_PASSWORD, ECR_TOKEN])).toEqual([])
    }
  )
})

describe('every process the action starts, on a cold tool cache in username/password mode', () => {
  it.skipIf(!strace)(
    'strace -f of main and post: Helm is downloaded and unpacked with no tar or gzip; no execve carries the password, AWS credentials or ACTIONS_* tokens',
    async () => {
      const registry = stack.tlsRegistry!
      const secret = registry.password
      const basic = Buffer.from(`${registry.username}:${secret}`).toString('base64')
      // What a runner after aws-actions/configure-aws-credentials holds, next to the job's tokens.
      const runnerSecrets: Record<string, string> = {
        AWS_ACCESS_KEY_ID: 'AKIAE2ESTRACECOLDKEY1',
        AWS_SECRET_ACCESS_KEY: 'e2e-strace-aws-secret-access-key-value',
        AWS_SESSION_TOKEN: 'e2e-strace-aws-session-token-value',
        ACTIONS_RUNTIME_TOKEN: 'e2e-strace-actions-runtime-token',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'e2e-strace-actions-oidc-request-token',
        ACTIONS_ID_TOKEN_REQUEST_URL: 'https://e2e-strace.invalid/oidc',
        GITHUB_TOKEN: 'ghs_e2estracegithubtokenvalue'
      }
      const traceDir = await makeTempDir('strace-cold')
      const coldCache = await makeTempDir('tc-cold')
      const downloads = stack.mirror.downloads()[`/${archiveName(HELM_VERSIONS.v4)}`] ?? 0
      const result = await runAction({
        workspace,
        toolCache: coldCache,
        // The mirror speaks HTTPS with the test CA, as a TLS-inspecting proxy would.
        env: { NODE_EXTRA_CA_CERTS: stack.certs.caFile, ...runnerSecrets },
        inputs: {
          charts: 'charts/secretive',
          registry: registry.host,
          namespace: 'hygiene',
          username: registry.username,
          // Helm trims one trailing newline from --password-stdin: the login still works, and
          // the auth value Helm stores (of the trimmed password) must be masked.
          password: `${secret}\n`,
          'ca-file': stack.certs.caFile,
          version: `0.4.${++published}`,
          'helm-version': HELM_VERSIONS.v4,
          'helm-download-url': stack.mirror.url
        },
        wrapCommand: straceInto(traceDir)
      })
      expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
      expect(result.exitCode).toBe(0)
      expect(result.post?.exitCode).toBe(0)
      // Cold: the archive was downloaded for this run.
      expect((stack.mirror.downloads()[`/${archiveName(HELM_VERSIONS.v4)}`] ?? 0) - downloads).toBe(
        1
      )
      // Per step, the first execve is the action's own node, started by the runner with the
      // runner's environment; every later one is a process the action started.
      const children = (
        await Promise.all((await filesBelow(traceDir)).map(f => readFile(f, 'utf8')))
      ).flatMap(trace =>
        trace
          .split('\n')
          .filter(l => /execve(at)?\(/.test(l))
          .slice(1)
      )
      const execs = children.filter(l => !/ENOENT/.test(l))
      const programs = execs.map(l => /execve(?:at)?\((?:\d+, )?"([^"]+)"/.exec(l)?.[1] ?? '?')
      expect(programs.some(p => p.endsWith('/helm'))).toBe(true)
      expect(programs.filter(p => /\/(tar|gzip|gunzip|unzip)$/.test(p))).toEqual([])
      const escape = (v: string) => new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      const patterns = [secret, basic, ...Object.values(runnerSecrets)].map(escape)
      expect(children.length).toBeGreaterThan(0)
      expect(findSecrets('strace', children.join('\n'), patterns)).toEqual([])
      // The stored form was masked before Helm could print it.
      const masks = result.stdout.split('\n').filter(l => l.startsWith('::add-mask::'))
      expect(masks).toContain(`::add-mask::${basic}`)
    }
  )
})

describe('signing-key and signing-passphrase (Helm provenance)', () => {
  it.skipIf(!strace)(
    'strace -f of main and post: the key and its passphrase are in no execve (argv or environment), log line, output, summary or file left behind',
    async () => {
      const passphrase = 'e2e-secrets-signing-passphrase-value'
      const gpg = await gpgHome()
      let armored: string
      try {
        const fpr = gpg.generate({
          uid: 'Secret <secret@example.com>',
          algo: 'rsa2048',
          passphrase
        })
        armored = gpg.exportSecret(fpr, passphrase)
      } finally {
        await gpg.cleanup()
      }
      const escape = (v: string) => new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      // Every base64 line of the armored block (the secret key material) and the passphrase.
      const keyLines = armored.split('\n').filter(l => /^[A-Za-z0-9+/=]{40,}$/.test(l))
      expect(keyLines.length).toBeGreaterThan(10)
      const patterns = [passphrase, ...keyLines].map(escape)
      const traceDir = await makeTempDir('strace-signing')
      const before = (await helmCalls()).length
      const result = await runAction({
        workspace,
        toolCache,
        debug: true,
        env: stack.actionEnv,
        inputs: {
          charts: 'charts/secretive',
          namespace: 'hygiene',
          version: `0.5.${++published}`,
          'helm-version': HELM_VERSIONS.v4,
          'helm-download-url': stack.mirror.url,
          'signing-key': armored,
          'signing-passphrase': passphrase
        },
        wrapCommand: straceInto(traceDir)
      })
      expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
      expect(result.exitCode).toBe(0)
      expect(JSON.parse(result.outputs.charts)[0].signed).toBe(true)
      // The runner was told to mask the passphrase and each line of the key.
      const masks = result.stdout.split('\n').filter(l => l.startsWith('::add-mask::'))
      expect(masks).toContain(`::add-mask::${passphrase}`)
      for (const line of keyLines) expect(masks).toContain(`::add-mask::${line}`)
      // Per step, the first execve is the runner starting node with the inputs (the positive
      // control: the trace shows them there); every later one is a process the action started.
      const traces = await Promise.all((await filesBelow(traceDir)).map(f => readFile(f, 'utf8')))
      expect(findSecrets('runner', traces.join('\n'), patterns).length).toBeGreaterThan(0)
      const children = traces.flatMap(trace =>
        trace
          .split('\n')
          .filter(l => /execve(at)?\(/.test(l))
          .slice(1)
      )
      expect(children.some(l => l.includes('"push"'))).toBe(true)
      expect(findSecrets('strace', children.join('\n'), patterns)).toEqual([])
      const calls = (await helmCalls()).slice(before)
      expect(await leaks(result, calls, patterns)).toEqual([])
    }
  )
})

describe('supply chain of the action', () => {
  it('every dependency is pinned to an exact version and locked with an integrity hash', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
      devDependencies: Record<string, string>
      optionalDependencies?: Record<string, string>
    }
    const lock = JSON.parse(await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      lockfileVersion: number
      packages: Record<
        string,
        { version?: string; integrity?: string; link?: boolean; inBundle?: boolean }
      >
    }
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2)
    const direct = {
      ...pkg.dependencies,
      ...pkg.devDependencies,
      ...(pkg.optionalDependencies ?? {})
    }
    for (const [name, range] of Object.entries(direct)) {
      expect(range, name).toMatch(/^\d+\.\d+\.\d+$/)
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(range)
    }
    const unlocked = Object.entries(lock.packages)
      // Bundled packages ship inside their parent's tarball, which the lock hashes.
      .filter(([key, e]) => key !== '' && !e.link && !e.inBundle && !e.integrity)
      .map(([key]) => key)
    expect(unlocked).toEqual([])
  })
})

describe('a classic repository password (issue 18)', () => {
  it.skipIf(!strace)(
    'strace -f of main and post, debug on: the password of an earlier `helm repo add` reaches no execve, log, output or file that outlives the job',
    async () => {
      const repo = await startChartRepo({
        certs: stack.certs,
        charts: [{ name: 'common', version: '1.2.0' }],
        credentials: { username: 'repo-user', password: 'e2e-chart-repo-password-value' }
      })
      try {
        const home = await makeTempDir('home-repo')
        // Async: the repository answers from this process.
        const added = spawn(
          await helmBinary(HELM_VERSIONS.v4),
          ['repo', 'add', 'team', repo.privateUrl, '--username', 'repo-user', '--password-stdin'],
          { env: { PATH: process.env.PATH ?? '', HOME: home, SSL_CERT_FILE: stack.certs.caFile } }
        )
        added.stdin.end(repo.credentials.password)
        expect(await new Promise(resolve => added.on('close', resolve))).toBe(0)
        const userConfig = path.join(home, '.config', 'helm', 'repositories.yaml')
        const ws = await workspaceWith([
          {
            name: 'withrepo',
            version: '0.1.0',
            dependencies: [{ name: 'common', version: '1.2.0', repository: repo.privateUrl }]
          }
        ])
        await createRepository(stack, 'hygiene/withrepo')
        const traceDir = await makeTempDir('strace-repo')
        const result = await runAction({
          workspace: ws,
          toolCache,
          home,
          debug: true,
          env: stack.actionEnv,
          inputs: {
            charts: 'charts/withrepo',
            namespace: 'hygiene',
            'helm-version': HELM_VERSIONS.v4,
            'helm-download-url': stack.mirror.url
          },
          wrapCommand: straceInto(traceDir)
        })
        expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
        expect(result.exitCode).toBe(0)
        // The private repository was used (with its credentials) and the password was masked.
        expect(repo.requests.some(r => r.user === 'repo-user' && r.status === 200)).toBe(true)
        expect(result.stdout).toContain(`::add-mask::${repo.credentials.password}`)
        const secret = [/e2e-chart-repo-password-value/]
        const trace = (
          await Promise.all((await filesBelow(traceDir)).map(f => readFile(f, 'utf8')))
        ).join('\n')
        expect(trace.split('\n').some(l => l.includes('"dependency"'))).toBe(true)
        const found = [
          ...findSecrets('strace', trace, secret),
          ...findSecrets('main stdout', visibleLines(result.stdout), secret),
          ...findSecrets('main stderr', result.stderr, secret),
          ...findSecrets(
            'post',
            `${result.post?.stdout ?? ''}${result.post?.stderr ?? ''}`,
            secret
          ),
          ...findSecrets('outputs', JSON.stringify(result.outputs), secret),
          ...findSecrets('summary', result.summary, secret),
          ...findSecrets('exported env', JSON.stringify(result.exportedEnv), secret)
        ]
        // The user's own repositories.yaml holds it (written by the earlier step); nothing else.
        for (const root of [result.dirs.home, result.dirs.runnerTemp]) {
          for (const file of await filesBelow(root)) {
            if (file === userConfig) continue
            found.push(...findSecrets(file, (await readFile(file)).toString('latin1'), secret))
          }
        }
        expect(found).toEqual([])
      } finally {
        await repo.stop()
      }
    }
  )
})
