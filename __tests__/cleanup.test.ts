import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../__fixtures__/core.js'

vi.mock('@actions/core', () => import('../__fixtures__/core.js'))
// The real fs/promises, with rm replaceable per test.
vi.mock('node:fs/promises', async () => {
  const actual = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises')
  return { ...actual, default: actual, rm: vi.fn(actual.rm) }
})

const { cleanup } = await import('../src/cleanup.js')
const { saveState } = await import('../src/state.js')

let tmp: string
let configDir: string
let logFile: string
let helmPath: string
let n = 0

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false
  )
}

/** A helm that records argv and the two config variables, failing for hosts named "fail*". */
async function recordingHelm(dir: string): Promise<string> {
  const script = path.join(dir, 'helm')
  await fs.writeFile(
    script,
    [
      '#!/bin/sh',
      'echo "$* HELM_REGISTRY_CONFIG=$HELM_REGISTRY_CONFIG DOCKER_CONFIG=$DOCKER_CONFIG" >> "$CLEANUP_TEST_LOG"',
      'case "$3" in fail*) echo "Error: not logged in" >&2; exit 1 ;; esac',
      'echo "Removing login credentials for $3"'
    ].join('\n'),
    { mode: 0o755 }
  )
  return script
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cleanup-test-'))
})
afterAll(async () => {
  delete process.env.CLEANUP_TEST_LOG
  await fs.rm(tmp, { recursive: true, force: true })
})

beforeEach(async () => {
  core.resetCore()
  const run = path.join(tmp, `run-${n++}`)
  configDir = path.join(run, 'helm-ecr-publish-xyz')
  await fs.mkdir(path.join(configDir, 'registry'), { recursive: true })
  await fs.mkdir(path.join(configDir, 'docker'), { recursive: true })
  await fs.writeFile(
    path.join(configDir, 'registry', 'config.json'),
    '{"auths":{"h":{"auth":"x"}}}'
  )
  logFile = path.join(run, 'helm.log')
  process.env.CLEANUP_TEST_LOG = logFile
  helmPath = await recordingHelm(run)
})
afterEach(() => {
  vi.mocked(fs.rm).mockClear()
})

describe('cleanup', () => {
  it('does nothing when main saved no state', async () => {
    await cleanup()
    expect(fs.rm).not.toHaveBeenCalled()
    expect(core.warning).not.toHaveBeenCalled()
  })

  it('logs out of every host with the job-private config, then removes the directory', async () => {
    saveState({ registryConfigDir: configDir, helmPath, loggedInHosts: ['h1', 'localhost:5000'] })
    await cleanup()
    const registryConfig = path.join(configDir, 'registry', 'config.json')
    const dockerConfig = path.join(configDir, 'docker')
    expect((await fs.readFile(logFile, 'utf8')).trim().split('\n')).toEqual([
      `registry logout h1 HELM_REGISTRY_CONFIG=${registryConfig} DOCKER_CONFIG=${dockerConfig}`,
      `registry logout localhost:5000 HELM_REGISTRY_CONFIG=${registryConfig} DOCKER_CONFIG=${dockerConfig}`
    ])
    expect(core.info).toHaveBeenCalledWith('Logged out of h1')
    expect(core.info).toHaveBeenCalledWith('Logged out of localhost:5000')
    expect(core.info).toHaveBeenCalledWith(`Removed the job's registry login (${configDir})`)
    expect(await exists(configDir)).toBe(false)
    expect(core.warning).not.toHaveBeenCalled()
    expect(core.setFailed).not.toHaveBeenCalled()
  })

  it('removes the directory without Helm (main failed before installing it)', async () => {
    saveState({ registryConfigDir: configDir, loggedInHosts: [] })
    await cleanup()
    expect(await exists(configDir)).toBe(false)
    expect(await exists(logFile)).toBe(false)
  })

  it('only warns when a logout fails, and still removes the directory', async () => {
    saveState({ registryConfigDir: configDir, helmPath, loggedInHosts: ['fail.example.com', 'h2'] })
    await cleanup()
    expect(core.warning).toHaveBeenCalledWith(
      'helm registry logout fail.example.com failed; the login file is deleted anyway.'
    )
    expect(core.info).toHaveBeenCalledWith('Logged out of h2')
    expect(await exists(configDir)).toBe(false)
  })

  it('only warns when Helm cannot be run', async () => {
    saveState({
      registryConfigDir: configDir,
      helmPath: path.join(tmp, 'no-such-helm'),
      loggedInHosts: ['h1']
    })
    await expect(cleanup()).resolves.toBeUndefined()
    expect(core.warning).toHaveBeenCalledWith(
      expect.stringMatching(
        /^helm registry logout h1 failed \(.+\); the login file is deleted anyway\.$/
      )
    )
    expect(await exists(configDir)).toBe(false)
  })

  it('only warns when the directory cannot be removed', async () => {
    vi.mocked(fs.rm).mockRejectedValueOnce(new Error('EBUSY: resource busy or locked'))
    saveState({ registryConfigDir: configDir, loggedInHosts: [] })
    await expect(cleanup()).resolves.toBeUndefined()
    expect(core.warning).toHaveBeenCalledWith(
      `Could not remove ${configDir}: EBUSY: resource busy or locked`
    )
    expect(core.setFailed).not.toHaveBeenCalled()
  })

  it('is fine when the directory is already gone', async () => {
    saveState({ registryConfigDir: path.join(tmp, 'gone'), loggedInHosts: [] })
    await cleanup()
    expect(core.warning).not.toHaveBeenCalled()
  })
})
