/**
 * run() with everything external faked: @actions/core (mock), the Helm installer (returns a fake
 * helm script), AWS (aws-sdk-client-mock). The e2e suite runs the real thing; these tests pin the
 * wiring and the messages.
 */
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../__fixtures__/core.js'
import { actionInputDefaults } from '../testbed/runner.js'
import { FakeHelm, fakeDigest } from './fixtures/fake-helm.js'

vi.mock('@actions/core', () => import('../__fixtures__/core.js'))
vi.mock('../src/helm/installer.js', () => ({ installHelm: vi.fn() }))

const { run } = await import('../src/main.js')
const { installHelm } = await import('../src/helm/installer.js')

/** Every input with its action.yml default, as the runner passes them. */
const DEFAULTS = actionInputDefaults()

const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const PASSWORD = 'ecr-token-password'
const TOKEN = Buffer.from(`AWS:${PASSWORD}`).toString('base64')
const ecr = mockClient(ECRClient)

const ENV = [
  'GITHUB_WORKSPACE',
  'RUNNER_TEMP',
  'GITHUB_STEP_SUMMARY',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_ECR',
  'HELM_FAKE_DIR'
]
const savedEnv = Object.fromEntries(ENV.map(name => [name, process.env[name]]))

let tmp: string
let n = 0
let ws: string
let runnerTemp: string
let fake: FakeHelm

async function chart(dir: string, name: string, version = '1.0.0', extra = ''): Promise<void> {
  await fs.mkdir(path.join(ws, dir), { recursive: true })
  await fs.writeFile(
    path.join(ws, dir, 'Chart.yaml'),
    `apiVersion: v2\nname: ${name}\nversion: ${version}\n${extra}`
  )
}

function inputs(values: Record<string, string>): void {
  Object.assign(core.inputs, DEFAULTS, values)
}

function installed(version = 'v3.18.0') {
  vi.mocked(installHelm).mockResolvedValue({ path: fake.path, version, fromCache: true })
}

const outputs = () => Object.fromEntries(core.setOutput.mock.calls)
const helmCalls = async (command: string) =>
  (await fake.calls()).filter(
    c => c.argv[0] === command || c.argv.slice(0, 2).join(' ') === command
  )

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'main-test-'))
})
afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  await fs.rm(tmp, { recursive: true, force: true })
})

beforeEach(async () => {
  core.resetCore()
  ecr.reset()
  vi.mocked(installHelm).mockReset()
  const dir = path.join(tmp, `run-${n++}`)
  ws = path.join(dir, 'ws')
  runnerTemp = path.join(dir, 'runner-temp')
  await fs.mkdir(ws, { recursive: true })
  fake = await FakeHelm.create(path.join(dir, 'fake'))
  for (const name of ENV) delete process.env[name]
  process.env.GITHUB_WORKSPACE = ws
  process.env.RUNNER_TEMP = runnerTemp
  process.env.HELM_FAKE_DIR = fake.dir
  ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [{ authorizationToken: TOKEN, proxyEndpoint: `https://${HOST}` }]
  })
  installed()
})

describe('run', () => {
  it('publishes charts to ECR: login on stdin, repositories created, dependencies first, outputs', async () => {
    await chart(
      'charts/app',
      'app',
      '1.0.0',
      'dependencies:\n  - name: lib\n    repository: file://../lib\n'
    )
    await chart('charts/lib', 'lib', '0.2.0')
    ecr.on(CreateRepositoryCommand).resolves({})
    inputs({ charts: 'charts/*', registry: HOST, namespace: 'charts', 'create-repository': 'true' })

    await run()

    expect(core.setFailed).not.toHaveBeenCalled()
    const [login] = await helmCalls('registry login')
    expect(login.argv).toEqual(['registry', 'login', HOST, '--username', 'AWS', '--password-stdin'])
    expect(login.stdin).toBe(PASSWORD)
    expect(core.setSecret).toHaveBeenCalledWith(PASSWORD)
    expect(core.setSecret).toHaveBeenCalledWith(TOKEN)
    expect(
      ecr
        .commandCalls(CreateRepositoryCommand)
        .map(c => c.args[0].input.repositoryName)
        .sort()
    ).toEqual(['charts/app', 'charts/lib'])
    const log = await fake.log()
    expect(log.indexOf('end push lib')).toBeLessThan(log.indexOf('start package app'))
    expect(outputs()).toMatchObject({
      ref: `oci://${HOST}/charts/app:1.0.0`,
      digest: fakeDigest('app', '1.0.0'),
      repository: `oci://${HOST}/charts`,
      chart: 'app',
      version: '1.0.0',
      registry: HOST,
      pushed: 'true',
      'helm-version': 'v3.18.0'
    })
    expect(JSON.parse(outputs().charts as string)).toHaveLength(2)

    // the job-private login: seeded config, exported for later steps, handed to post
    const registryConfig = vi
      .mocked(core.exportVariable)
      .mock.calls.find(([name]) => name === 'HELM_REGISTRY_CONFIG')?.[1] as string
    expect(registryConfig.startsWith(path.join(runnerTemp, 'helm-ecr-publish-'))).toBe(true)
    expect(JSON.parse(await fs.readFile(registryConfig, 'utf8'))).toEqual({ auths: { [HOST]: {} } })
    expect([...core.state.keys()]).toEqual(['registryConfigDir'])
    expect(core.state.get('registryConfigDir')).toBe(path.dirname(path.dirname(registryConfig)))
    expect(core.addPath).toHaveBeenCalledWith(fake.dir)
  })

  it('uses the registry from GetAuthorizationToken and AWS_REGION when no registry is given', async () => {
    await chart('.', 'solo')
    process.env.AWS_REGION = 'us-west-2'
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: TOKEN,
          proxyEndpoint: 'https://210987654321.dkr.ecr.us-west-2.amazonaws.com'
        }
      ]
    })
    inputs({})
    await run()
    expect(core.setFailed).not.toHaveBeenCalled()
    expect(outputs().ref).toBe('oci://210987654321.dkr.ecr.us-west-2.amazonaws.com/solo:1.0.0')
    const client = ecr.call(0).thisValue as ECRClient
    expect(await client.config.region()).toBe('us-west-2')
  })

  it('fails with the input message and does nothing else', async () => {
    inputs({ registry: `https://${HOST}` })
    await run()
    expect(core.setFailed).toHaveBeenCalledWith(
      `Input "registry" must be a bare host without a scheme (got "https://${HOST}"): remove the "https://" prefix, e.g. "123456789012.dkr.ecr.eu-west-2.amazonaws.com".`
    )
    expect(installHelm).not.toHaveBeenCalled()
    expect(ecr.calls()).toHaveLength(0)
  })

  it('asks for a region when there is neither a registry nor AWS_REGION', async () => {
    await chart('.', 'solo')
    inputs({})
    await run()
    expect(core.setFailed).toHaveBeenCalledWith(
      'Input "region" is empty and neither AWS_REGION nor AWS_DEFAULT_REGION is set: set "region", set "registry" to an ECR host, or give aws-actions/configure-aws-credentials an aws-region.'
    )
  })

  it('a dry run with no registry and no region makes no AWS call and names the placeholder host', async () => {
    await chart('.', 'solo')
    inputs({ 'dry-run': 'true' })
    await run()
    expect(core.setFailed).not.toHaveBeenCalled()
    expect(ecr.calls()).toHaveLength(0)
    expect(outputs().ref).toBe('oci://registry-not-checked/solo:1.0.0')
    expect(outputs().digest).toMatch(/^sha256:[0-9a-f]{64}$/)
  })

  it('logs in to another registry with username/password and no AWS call; warns about old Helm', async () => {
    await chart('chart', 'demo')
    installed('v3.9.4')
    inputs({
      charts: 'chart',
      registry: 'localhost:5000',
      namespace: 'ns',
      username: 'ci',
      password: 'pw',
      'plain-http': 'true'
    })
    await run()
    expect(core.setFailed).not.toHaveBeenCalled()
    expect(ecr.calls()).toHaveLength(0)
    const [login] = await helmCalls('registry login')
    expect(login.argv).toEqual([
      'registry',
      'login',
      'localhost:5000',
      '--username',
      'ci',
      '--password-stdin',
      '--insecure' // login on Helm < 3.18 has no --plain-http; --insecure allows the HTTP fallback
    ])
    expect(login.stdin).toBe('pw')
    expect(core.warning).toHaveBeenCalledWith(
      'Helm v3.9.4 cannot apply plain-http (Helm 3.13+); set "helm-version" to a newer Helm.'
    )
    expect(outputs().ref).toBe('oci://localhost:5000/ns/demo:1.0.0')
  })

  it.each([
    ['pw', 'pw'],
    ['pw\n', 'pw'],
    ['pw\r\n', 'pw'],
    ['pw\n\n', 'pw\n']
  ])(
    'masks the registry auth Helm stores for password %j: base64(user:%j)',
    async (password, kept) => {
      await chart('chart', 'demo')
      inputs({ charts: 'chart', registry: 'localhost:5000', username: 'ci', password })
      await run()
      expect(core.setFailed).not.toHaveBeenCalled()
      // ECR is not involved: this mask can only come from the login.
      const stored = Buffer.from(`ci:${kept}`).toString('base64')
      expect(core.setSecret).toHaveBeenCalledWith(stored)
      expect(core.setSecret).toHaveBeenCalledWith(password)
      const [login] = await helmCalls('registry login')
      expect(login.stdin).toBe(password)
    }
  )

  it('explains a missing repository with the create-repository fix', async () => {
    await chart('chart', 'demo')
    await fake.failPush(
      'demo',
      1,
      "Error: POST \"https://h/v2/charts/demo/blobs/uploads/\": response status code 404: name unknown: The repository with name 'charts/demo' does not exist in the registry with id '123456789012'"
    )
    inputs({ charts: 'chart', registry: HOST, namespace: 'charts' })
    await run()
    expect(core.setFailed).toHaveBeenCalledWith(
      `Repository "charts/demo" does not exist in ${HOST}: set "create-repository: true", or create it with "aws ecr create-repository --repository-name charts/demo --region eu-west-2".`
    )
    expect(outputs()).toMatchObject({
      ref: `oci://${HOST}/charts/demo:1.0.0`,
      digest: '',
      pushed: 'false'
    })
  })

  it('skips versions ECR already has (skip-existing)', async () => {
    installed('v4.1.4')
    await chart('chart', 'demo', '2.0.0+build.1')
    const existing = `sha256:${'e'.repeat(64)}`
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: existing }] })
    inputs({ charts: 'chart', registry: HOST, 'skip-existing': 'true' })
    await run()
    expect(core.setFailed).not.toHaveBeenCalled()
    expect(ecr.commandCalls(DescribeImagesCommand)[0].args[0].input).toMatchObject({
      repositoryName: 'demo',
      imageIds: [{ imageTag: '2.0.0_build.1' }]
    })
    // Its only push is to the in-process registry (this run's digest); another digest: pulled.
    expect((await helmCalls('push')).map(c => c.argv[2])).toEqual([
      expect.stringMatching(/^oci:\/\/127\.0\.0\.1:\d+$/)
    ])
    expect(await helmCalls('pull')).toHaveLength(1)
    expect(outputs()).toMatchObject({ digest: existing, pushed: 'false', version: '2.0.0+build.1' })
  })

  it('refuses a +build version on Helm 3.18.0 (helm#30881) before logging in', async () => {
    await chart('chart', 'demo', '1.0.0+build.5')
    inputs({ charts: 'chart', registry: HOST })
    await run()
    expect(core.setFailed).toHaveBeenCalledWith(
      'Helm 3.18.0 cannot push version 1.0.0+build.5 (build metadata after "+", helm/helm#30881): set "helm-version" to another release, e.g. "3" or "4".'
    )
    expect(await helmCalls('registry login')).toEqual([])
  })

  it('an invalid SOURCE_DATE_EPOCH fails the step in one line naming it, before any Helm runs', async () => {
    await chart('chart', 'demo')
    inputs({ charts: 'chart', registry: HOST })
    process.env.SOURCE_DATE_EPOCH = 'yesterday'
    try {
      await run()
    } finally {
      delete process.env.SOURCE_DATE_EPOCH
    }
    expect(core.setFailed).toHaveBeenCalledWith(
      'SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 such as "1700000000" (got "yesterday"): set it from "git log -1 --format=%ct", or unset it.'
    )
    expect(await fake.calls()).toEqual([])
  })

  it('fails the step naming the failed charts when some fail', async () => {
    await chart('charts/a', 'a')
    await chart('charts/b', 'b')
    await fake.failPush(
      'b',
      1,
      'Error: strict mode enabled, ref basename and tag must match the chart name and version'
    )
    inputs({ charts: 'charts/a\ncharts/b', registry: HOST })
    await run()
    expect(core.error).toHaveBeenCalledWith(
      'Chart b 1.0.0: helm push failed: strict mode enabled, ref basename and tag must match the chart name and version',
      {}
    )
    expect(core.setFailed).toHaveBeenCalledWith(
      "1 of 2 charts failed (b); 1 pushed: see the errors above for each chart's reason."
    )
    expect(outputs().pushed).toBe('true')
  })

  it('reports a rejected login', async () => {
    await chart('chart', 'demo')
    await fake.failLogin(
      'Error: login attempt to https://h/v2/ failed with status: 401 Unauthorized'
    )
    inputs({ charts: 'chart', registry: HOST })
    await run()
    expect(core.setFailed).toHaveBeenCalledWith(
      `Registry ${HOST} rejected the login (login attempt to https://h/v2/ failed with status: 401 Unauthorized): check the credentials ("username"/"password", or the AWS role's ecr:GetAuthorizationToken permission and the registry host).`
    )
    expect(await helmCalls('push')).toEqual([])
    // post still gets the directory to delete
    expect(core.state.get('registryConfigDir')).toBeTruthy()
  })

  it('refuses version overrides for a packaged chart', async () => {
    await fs.writeFile(path.join(ws, 'demo-1.0.0.tgz'), 'demo 1.0.0\n')
    inputs({ charts: 'demo-1.0.0.tgz', registry: HOST, version: '2.0.0' })
    await run()
    expect(core.setFailed).toHaveBeenCalledWith(
      'Inputs "version" and "app-version" cannot change the packaged chart "demo-1.0.0.tgz": pass its chart directory instead, or leave them empty.'
    )
  })

  it('pushes a packaged chart with its own name and version', async () => {
    await fs.writeFile(path.join(ws, 'demo-1.0.0.tgz'), 'demo 1.0.0\n')
    inputs({ charts: '*.tgz', registry: HOST })
    await run()
    expect(core.setFailed).not.toHaveBeenCalled()
    expect((await helmCalls('show')).map(c => c.argv)).toEqual([
      ['show', 'chart', path.join(ws, 'demo-1.0.0.tgz')]
    ])
    expect(outputs().ref).toBe(`oci://${HOST}/demo:1.0.0`)
  })

  it('refuses two charts with one name', async () => {
    await chart('a', 'same')
    await chart('b', 'same')
    inputs({ charts: 'a,b', registry: HOST })
    await run()
    expect(core.setFailed).toHaveBeenCalledWith(
      'Input "charts" has two charts named "same" (a and b): publish each name once per run.'
    )
  })

  it('reports a bad Chart.yaml version with the file, as an annotation on it', async () => {
    await chart('chart', 'demo', '1.0.0.1')
    inputs({ charts: 'chart', registry: HOST })
    try {
      await run()
      expect(core.error).toHaveBeenCalledWith(
        'chart/Chart.yaml version "1.0.0.1" is not SemVer 2: fix Chart.yaml or set the "version" input.',
        { file: 'chart/Chart.yaml' }
      )
      expect(core.setFailed).not.toHaveBeenCalled()
      expect(process.exitCode).toBe(1)
      expect(await helmCalls('push')).toEqual([])
    } finally {
      process.exitCode = 0
    }
  })

  it('fails one invalid chart and publishes the other, naming each failure once', async () => {
    await chart('good', 'good', '1.0.0')
    await chart('bad', 'bad', '1.2')
    inputs({ charts: 'good,bad', registry: HOST })
    await run()
    expect(core.error).toHaveBeenCalledWith(
      'bad/Chart.yaml version "1.2" is not SemVer 2: fix Chart.yaml or set the "version" input.',
      { file: 'bad/Chart.yaml' }
    )
    expect(core.setFailed).toHaveBeenCalledWith(
      "1 of 2 charts failed (bad); 1 pushed: see the errors above for each chart's reason."
    )
    expect(JSON.parse(outputs().charts as string)).toMatchObject([
      { chart: 'good', pushed: true },
      { chart: 'bad', pushed: false, error: expect.stringMatching(/not SemVer 2/) }
    ])
  })
})
