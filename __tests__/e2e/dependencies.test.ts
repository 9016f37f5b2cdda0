/**
 * Issue 18: charts whose dependencies come from classic chart repositories (an index.yaml over
 * TLS, one path with Basic auth) publish with no extra step, on every Helm version: by URL with a
 * committed Chart.lock and without one, and from a private repository an earlier step added
 * (`helm repo add --username --password`) by URL and by `@alias`. The runner user's Helm config
 * is unchanged, the checkout too; each failure gives one line and nothing of the chart is pushed.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startChartRepo, type ChartRepo } from '../../testbed/chart-repo.js'
import { ALL_HELM_VERSIONS, HELM_VERSIONS, helmBinary } from '../../testbed/helm-binaries.js'
import { helmCli } from '../../testbed/helm-cli.js'
import { withHosts, type WrapCommand } from '../../testbed/hosts.js'
import { makeTempDir } from '../../testbed/paths.js'
import { errorLines } from '../../testbed/runner.js'
import { createRepository, loggedInHelm, runOnHelm, workspaceWith } from '../../testbed/scenario.js'
import { makeChart, startStack, type Stack } from '../../testbed/stack.js'

const execFileAsync = promisify(execFile)

let stack: Stack
let repo: ChartRepo

/** Another account's ECR registry: a name (mapped to the emulator's gate) the action must log in to. */
const OTHER_ECR = '210987654321.dkr.ecr.eu-west-2.amazonaws.com'
let wrap: WrapCommand

beforeAll(async () => {
  stack = await startStack({ tlsRegistry: true })
  repo = await startChartRepo({
    certs: stack.certs,
    charts: [{ name: 'common', version: '1.2.0' }]
  })
  wrap = withHosts({ 'registry.test': '127.0.0.1', [OTHER_ECR]: '127.0.0.1' })
  // Charts in a second registry (htpasswd) and in "another account's" ECR registry.
  const tls = stack.tlsRegistry as NonNullable<Stack['tlsRegistry']>
  const helm = await helmCli(HELM_VERSIONS.v4, { caFile: stack.certs.caFile })
  try {
    const login = await helm.login(tls.host, tls.username, tls.password)
    expect(login.exitCode, login.output).toBe(0)
    await createRepository(stack, 'shared/platform')
    const token = stack.ecr.issueToken()
    expect(
      (await helm.login(stack.ecr.registryHost, token.username, token.password)).exitCode
    ).toBe(0)
    for (const [name, remote] of [
      ['team-lib', `oci://${tls.host}/team`],
      ['platform', `oci://${stack.ecr.registryHost}/shared`]
    ]) {
      const dir = await makeChart(path.join(helm.home, 'src', name), { name, version: '1.0.0' })
      const packaged = await helm.run(['package', dir, '--destination', helm.home])
      expect(packaged.exitCode, packaged.output).toBe(0)
      const pushed = await helm.run(['push', path.join(helm.home, `${name}-1.0.0.tgz`), remote])
      expect(pushed.exitCode, pushed.output).toBe(0)
    }
  } finally {
    await helm.cleanup()
  }
})
afterAll(async () => {
  await repo?.stop()
  await stack?.stop()
})

/** Chart NAME 0.1.0 depending on DEP VERSION from REPOSITORY. */
function dependent(name: string, repository: string, dep = 'common', version = '1.2.0') {
  return { name, version: '0.1.0', dependencies: [{ name: dep, version, repository }] }
}

/** A Helm run as an earlier step of the job would run it: the runner's HOME, the test CA. */
async function earlierStep(
  helmVersion: string,
  home: string,
  args: string[],
  opts: { input?: string; wrap?: WrapCommand } = {}
): Promise<void> {
  const unwrapped = (c: string, a: string[]) => ({ command: c, args: a })
  const command = (opts.wrap ?? unwrapped)(await helmBinary(helmVersion), args)
  // Asynchronous: the chart repository answers from this process.
  const child = spawn(command.command, command.args, {
    env: { PATH: process.env.PATH ?? '', HOME: home, SSL_CERT_FILE: stack.certs.caFile }
  })
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  child.stdin.end(opts.input ?? '')
  expect(await new Promise(resolve => child.on('close', resolve)), output).toBe(0)
}

/** The files of the chart archive the registry serves for ns/name:version. */
async function publishedFiles(helmVersion: string, ref: string, version: string) {
  const helm = await loggedInHelm(stack, helmVersion)
  try {
    const dest = path.join(helm.home, 'pulled')
    await mkdir(dest)
    const res = await helm.run(['pull', ref, '--version', version, '--destination', dest])
    expect(res.exitCode, res.output).toBe(0)
    const [file] = await readdir(dest)
    const { stdout } = await execFileAsync('tar', ['tzf', path.join(dest, file)])
    return stdout.split('\n').filter(Boolean)
  } finally {
    await helm.cleanup()
  }
}

/** `git status --ignored --porcelain` of a workspace made a repository before the run. */
async function gitInit(workspace: string): Promise<void> {
  const git = (...args: string[]) => execFileAsync('git', args, { cwd: workspace })
  await git('init', '-q')
  await git('add', '-A')
  await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'charts')
}
async function gitStatus(workspace: string): Promise<string> {
  return (await execFileAsync('git', ['status', '--ignored', '--porcelain'], { cwd: workspace }))
    .stdout
}

describe.each(ALL_HELM_VERSIONS)('Helm %s', helmVersion => {
  const short = helmVersion.replace(/\./g, '')
  const run = runOnHelm(() => stack, helmVersion, beforeAll)
  const ns = `deps${short}`

  it('a dependency named by URL: with a committed Chart.lock and without one, both publish with it', async () => {
    const locked = `locked-${short}`
    const unlocked = `unlocked-${short}`
    for (const name of [locked, unlocked]) await createRepository(stack, `${ns}/${name}`)
    const dependencies = [{ name: 'common', version: '1.2.0', repository: repo.publicUrl }]
    const workspace = await workspaceWith([
      { name: locked, version: '0.1.0', dependencies },
      { name: unlocked, version: '0.1.0', dependencies }
    ])
    // The lock as `helm dependency update` writes it, committed without charts/.
    const home = await makeTempDir('lockmaker')
    const lockedDir = path.join(workspace, 'charts', locked)
    await earlierStep(helmVersion, home, ['dependency', 'update', lockedDir])
    await rm(path.join(lockedDir, 'charts'), { recursive: true })
    await gitInit(workspace)
    const runnerHome = await makeTempDir('home')
    const result = await run(workspace, { charts: 'charts/*', namespace: ns }, { home: runnerHome })
    expect(errorLines(result.stdout), result.stdout).toEqual([])
    expect(result.exitCode).toBe(0)
    for (const name of [locked, unlocked]) {
      const files = await publishedFiles(
        helmVersion,
        `oci://${stack.ecr.registryHost}/${ns}/${name}`,
        '0.1.0'
      )
      expect(files, result.stdout).toContain(`${name}/charts/common/Chart.yaml`)
    }
    // Nothing written to the checkout or to the runner user's Helm settings.
    expect(await gitStatus(workspace)).toBe('')
    expect(existsSync(path.join(runnerHome, '.config', 'helm'))).toBe(false)
    expect(existsSync(path.join(runnerHome, '.cache', 'helm'))).toBe(false)
  })

  it('a private repository added by an earlier step works by URL and by @alias; the user config is unchanged', async () => {
    const byUrl = `byurl-${short}`
    const byAlias = `byalias-${short}`
    for (const name of [byUrl, byAlias]) await createRepository(stack, `${ns}/${name}`)
    const workspace = await workspaceWith([
      dependent(byUrl, repo.privateUrl),
      dependent(byAlias, '@team')
    ])
    const home = await makeTempDir('home')
    await earlierStep(helmVersion, home, [
      'repo',
      'add',
      'team',
      repo.privateUrl,
      '--username',
      repo.credentials.username,
      '--password',
      repo.credentials.password
    ])
    const config = path.join(home, '.config', 'helm', 'repositories.yaml')
    const before = await readFile(config, 'utf8')
    const result = await run(workspace, { charts: 'charts/*', namespace: ns }, { home })
    expect(errorLines(result.stdout), result.stdout).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(await readFile(config, 'utf8')).toBe(before)
    // Masked (the runner hides it from the log), never printed otherwise.
    const printed = (result.stdout + result.stderr).replace(/^::add-mask::.*$/gm, '')
    expect(printed).not.toContain(repo.credentials.password)
    for (const name of [byUrl, byAlias]) {
      const files = await publishedFiles(
        helmVersion,
        `oci://${stack.ecr.registryHost}/${ns}/${name}`,
        '0.1.0'
      )
      expect(files, result.stdout).toContain(`${name}/charts/common/Chart.yaml`)
    }
  })

  it('an umbrella chart with a file:// dependency and no Chart.lock, cloned twice, publishes one digest; skip-existing skips it; checkouts unchanged', async () => {
    const umbrella = `umbrella-${short}`
    await createRepository(stack, `${ns}/${umbrella}`)
    const origin = await workspaceWith([
      { name: `lib-${short}`, version: '0.2.0' },
      {
        name: umbrella,
        version: '0.1.0',
        dependencies: [
          { name: `lib-${short}`, version: '0.2.0', repository: `file://../lib-${short}` }
        ]
      }
    ])
    await gitInit(origin)
    const clones = [await makeTempDir('clone-a'), await makeTempDir('clone-b')]
    for (const clone of clones) await execFileAsync('git', ['clone', '-q', origin, clone])
    const inputs = { charts: `charts/${umbrella}`, namespace: ns, 'skip-existing': 'true' }
    const first = await run(clones[0], inputs)
    expect(errorLines(first.stdout), first.stdout).toEqual([])
    expect(first.outputs.pushed).toBe('true')
    const from = stack.ecr.registryRequests.length
    const second = await run(clones[1], inputs)
    expect(errorLines(second.stdout), second.stdout).toEqual([])
    expect(second.outputs.pushed).toBe('false')
    expect(second.outputs.digest).toBe(first.outputs.digest)
    expect(second.stdout).toContain("the digest of this run's package; skipped")
    // Digest-first: the re-run neither pulls nor pushes the umbrella (no request to its repository).
    expect(
      stack.ecr.registryRequests
        .slice(from)
        .filter(r => r.path.startsWith(`/v2/${ns}/${umbrella}/`))
    ).toEqual([])
    for (const clone of clones) expect(await gitStatus(clone)).toBe('')
    const files = await publishedFiles(
      helmVersion,
      `oci://${stack.ecr.registryHost}/${ns}/${umbrella}`,
      '0.1.0'
    )
    expect(files).toContain(`${umbrella}/charts/lib-${short}/Chart.yaml`)
    expect(files).toContain(`${umbrella}/Chart.lock`)
  })

  it('OCI dependencies: a second registry an earlier step logged in to, and another ECR account with no earlier step', async () => {
    const chart = `ocideps-${short}`
    await createRepository(stack, `${ns}/${chart}`)
    const tlsPort = (stack.tlsRegistry as NonNullable<Stack['tlsRegistry']>).host.split(':')[1]
    const gatePort = stack.ecr.registryHost.split(':')[1]
    const workspace = await workspaceWith([
      {
        name: chart,
        version: '0.1.0',
        dependencies: [
          { name: 'team-lib', version: '1.0.0', repository: `oci://registry.test:${tlsPort}/team` },
          {
            name: 'platform',
            version: '1.0.0',
            repository: `oci://${OTHER_ECR}:${gatePort}/shared`
          }
        ]
      }
    ])
    const home = await makeTempDir('home')
    const tls = stack.tlsRegistry as NonNullable<Stack['tlsRegistry']>
    await earlierStep(
      helmVersion,
      home,
      [
        'registry',
        'login',
        `registry.test:${tlsPort}`,
        '--username',
        tls.username,
        '--password-stdin'
      ],
      { input: tls.password, wrap }
    )
    const config = path.join(home, '.config', 'helm', 'registry', 'config.json')
    const before = await readFile(config, 'utf8')
    const tokens = stack.ecr.apiCalls.length
    const result = await run(
      workspace,
      { charts: `charts/${chart}`, namespace: ns },
      { home, wrapCommand: wrap }
    )
    expect(errorLines(result.stdout), result.stdout).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`Logged in to ${OTHER_ECR}:${gatePort} for dependencies`)
    // A token from the other registry's region.
    expect(
      stack.ecr.apiCalls
        .slice(tokens)
        .some(c => c.op === 'GetAuthorizationToken' && c.region === 'eu-west-2')
    ).toBe(true)
    expect(await readFile(config, 'utf8')).toBe(before)
    const files = await publishedFiles(
      helmVersion,
      `oci://${stack.ecr.registryHost}/${ns}/${chart}`,
      '0.1.0'
    )
    expect(files).toContain(`${chart}/charts/team-lib/Chart.yaml`)
    expect(files).toContain(`${chart}/charts/platform/Chart.yaml`)
  })

  it('OCI failures: a registry without a login, an ECR token denied; one line each, nothing pushed', async () => {
    const nologin = `nologin-${short}`
    const denied = `ecrdenied-${short}`
    for (const name of [nologin, denied]) await createRepository(stack, `${ns}/${name}`)
    const tlsPort = (stack.tlsRegistry as NonNullable<Stack['tlsRegistry']>).host.split(':')[1]
    const deniedHost = '210987654321.dkr.ecr.eu-central-1.amazonaws.com'
    const workspace = await workspaceWith([
      {
        name: nologin,
        version: '0.1.0',
        dependencies: [
          { name: 'team-lib', version: '1.0.0', repository: `oci://registry.test:${tlsPort}/team` }
        ]
      },
      {
        name: denied,
        version: '0.1.0',
        dependencies: [
          { name: 'platform', version: '1.0.0', repository: `oci://${deniedHost}/shared` }
        ]
      }
    ])
    stack.ecr.faults.accessDenied('GetAuthorizationToken@eu-central-1')
    const from = stack.ecr.registryRequests.length
    try {
      const result = await run(
        workspace,
        { charts: 'charts/*', namespace: ns },
        { wrapCommand: wrap }
      )
      expect(result.exitCode).toBe(1)
      const errors = errorLines(result.stdout)
      const line = (name: string) => errors.find(e => e.startsWith(`Chart ${name} 0.1.0:`)) ?? ''
      expect(line(nologin)).toContain(
        `Chart "charts/${nologin}" dependency team-lib (oci://registry.test:${tlsPort}/team) could not be fetched: the registry refused access (401/403): log in to registry.test:${tlsPort} in an earlier step`
      )
      expect(line(denied)).toMatch(
        new RegExp(
          `Chart "charts/${denied}" dependency registry ${deniedHost.replace(/\./g, '\\.')} could not be logged in to with the job's AWS credentials \\(.*AccessDenied.*|.*denied.*\\): allow the job's role ecr:GetAuthorizationToken in eu-central-1`
        )
      )
      for (const name of [nologin, denied]) {
        expect(
          stack.ecr.registryRequests
            .slice(from)
            .filter(r => r.path.startsWith(`/v2/${ns}/${name}/`))
        ).toEqual([])
      }
    } finally {
      stack.ecr.faults.clear()
    }
  })

  it('a dependency refused (401) or not found fails its chart in one line; nothing of it is pushed; others publish', async () => {
    const denied = `denied-${short}`
    const missing = `missing-${short}`
    const fine = `fine-${short}`
    for (const name of [denied, missing, fine]) await createRepository(stack, `${ns}/${name}`)
    const workspace = await workspaceWith([
      dependent(denied, repo.privateUrl),
      dependent(missing, repo.publicUrl, 'common', '9.9.9'),
      { name: fine, version: '0.1.0' }
    ])
    const from = stack.ecr.registryRequests.length
    const result = await run(workspace, { charts: 'charts/*', namespace: ns })
    expect(result.exitCode).toBe(1)
    const errors = errorLines(result.stdout)
    const line = (name: string) => errors.find(e => e.startsWith(`Chart ${name} 0.1.0:`)) ?? ''
    expect(line(denied)).toMatch(
      new RegExp(
        `Chart "charts/${denied}" dependency common \\(${repo.privateUrl}\\) could not be fetched: the repository refused access \\(401/403\\): add it with credentials in an earlier step .*\\(helm: .*\\)$`
      )
    )
    expect(line(missing)).toMatch(
      new RegExp(
        `Chart "charts/${missing}" dependency common \\(${repo.publicUrl}\\) could not be fetched: the chart or version was not found: check the dependency's name and version in Chart.yaml, and its repository URL \\(helm: .*\\)$`
      )
    )
    const touched = (name: string) =>
      stack.ecr.registryRequests.slice(from).filter(r => r.path.startsWith(`/v2/${ns}/${name}/`))
    expect(touched(denied)).toEqual([])
    expect(touched(missing)).toEqual([])
    expect(touched(fine).some(r => r.method === 'PUT')).toBe(true)
    expect(result.outputs.charts).toContain(fine)
  })
})
