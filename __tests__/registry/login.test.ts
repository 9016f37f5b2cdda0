import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'
import { FakeHelm } from '../fixtures/fake-helm.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { logIn, maskLogin } = await import('../../src/registry/login.js')
const { makePrivateDir } = await import('../../src/runtime/private-dir.js')
const { Helm } = await import('../../src/helm/helm.js')
const { UserError } = await import('../../src/errors.js')

const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const savedRunnerTemp = process.env.RUNNER_TEMP
let tmp: string
let n = 0
let fake: FakeHelm

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'login-test-'))
})
afterAll(async () => {
  if (savedRunnerTemp === undefined) delete process.env.RUNNER_TEMP
  else process.env.RUNNER_TEMP = savedRunnerTemp
  await fs.rm(tmp, { recursive: true, force: true })
})
beforeEach(async () => {
  core.resetCore()
  const run = path.join(tmp, `run-${n++}`)
  process.env.RUNNER_TEMP = path.join(run, 'runner-temp')
  fake = await FakeHelm.create(path.join(run, 'fake'))
})

describe('makePrivateDir', () => {
  it('makes an owner-only helm-ecr-publish-* directory under RUNNER_TEMP and tells post', async () => {
    const dir = await makePrivateDir()
    expect(path.dirname(dir.root)).toBe(process.env.RUNNER_TEMP)
    expect(path.basename(dir.root)).toMatch(/^helm-ecr-publish-.+/)
    expect((await fs.stat(dir.root)).mode & 0o777).toBe(0o700)
    expect(dir.registryConfig).toBe(path.join(dir.root, 'registry', 'config.json'))
    expect(dir.dockerConfig).toBe(path.join(dir.root, 'docker'))
    expect(core.saveState).toHaveBeenCalledWith('registryConfigDir', dir.root)
  })
})

describe('maskLogin', () => {
  it('masks each non-empty line of a multi-line password, and its one-line forms', () => {
    maskLogin('AWS', 'pa55\r\nword\n\n')
    const masked = core.setSecret.mock.calls.map(([value]) => value)
    expect(masked).toEqual(expect.arrayContaining(['pa55\r\nword\n\n', 'pa55', 'word']))
    expect(masked).toContain(Buffer.from('AWS:pa55\r\nword\n').toString('base64'))
    expect(masked.filter(value => value.trim() === '')).toEqual([])
    expect(new Set(masked).size).toBe(masked.length)
  })

  it('a password ending in two newlines leaves no readable line', () => {
    maskLogin('AWS', 'hunter2\n\n')
    expect(core.setSecret).toHaveBeenCalledWith('hunter2')
  })
})

describe('logIn', () => {
  const helm = () => new Helm({ path: fake.path, version: 'v4.1.4', env: fake.env })

  it('seeds the private config, logs in on stdin and masks the form Helm stores', async () => {
    const dir = await makePrivateDir()
    await logIn(helm(), { host: HOST, username: 'AWS', password: 'pa55word' }, dir)
    const [call] = await fake.calls()
    expect(call.argv).toEqual(['registry', 'login', HOST, '--username', 'AWS', '--password-stdin'])
    expect(call.stdin).toBe('pa55word')
    expect(JSON.parse(await fs.readFile(dir.registryConfig, 'utf8'))).toEqual({
      auths: { [HOST]: {} }
    })
    // base64("AWS:pa55word"), written out: the value Helm puts in the config file's "auth".
    expect(core.setSecret).toHaveBeenCalledWith('QVdTOnBhNTV3b3Jk')
    expect(core.info).toHaveBeenCalledWith(`Logged in to ${HOST}`)
  })

  it('a refused login is one line naming the credentials, not retried', async () => {
    await fake.failLogin(
      'Error: login attempt to https://registry/v2/ failed with status: 401 Unauthorized'
    )
    const dir = await makePrivateDir()
    await expect(
      logIn(helm(), { host: HOST, username: 'AWS', password: 'wrong' }, dir)
    ).rejects.toThrow(
      new UserError(
        `Registry ${HOST} rejected the login (login attempt to https://registry/v2/ failed with status: 401 Unauthorized): check the credentials ("username"/"password", or the AWS role's ecr:GetAuthorizationToken permission and the registry host).`
      )
    )
    expect(await fake.calls()).toHaveLength(1)
  })

  it('a proxy that refuses the registry is one line naming the proxy and the host', async () => {
    const saved = process.env.https_proxy
    process.env.https_proxy = 'http://ci:hunter2@proxy.corp:3128'
    try {
      await fake.failLogin(`Error: Get "https://${HOST}/v2/": Forbidden`)
      const dir = await makePrivateDir()
      await expect(
        logIn(helm(), { host: HOST, username: 'AWS', password: 'pw' }, dir)
      ).rejects.toThrow(
        new UserError(
          `The proxy http://proxy.corp:3128 refused the connection to ${HOST} (Get "https://${HOST}/v2/": Forbidden): check HTTPS_PROXY/HTTP_PROXY, that the proxy allows ${HOST}, and NO_PROXY for hosts to reach directly.`
        )
      )
    } finally {
      if (saved === undefined) delete process.env.https_proxy
      else process.env.https_proxy = saved
    }
  })
})
