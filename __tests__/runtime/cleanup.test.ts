import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))
// The real fs/promises, with rm replaceable per test.
vi.mock('node:fs/promises', async () => {
  const actual = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises')
  return { ...actual, default: actual, rm: vi.fn(actual.rm) }
})

const { cleanup } = await import('../../src/runtime/cleanup.js')
const { isPrivateDir } = await import('../../src/runtime/private-dir.js')
const { saveState } = await import('../../src/runtime/state.js')

let tmp: string
let runnerTemp: string
let privateDir: string
let n = 0
const savedRunnerTemp = process.env.RUNNER_TEMP

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false
  )
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cleanup-test-'))
})
afterAll(async () => {
  if (savedRunnerTemp === undefined) delete process.env.RUNNER_TEMP
  else process.env.RUNNER_TEMP = savedRunnerTemp
  await fs.rm(tmp, { recursive: true, force: true })
})

beforeEach(async () => {
  core.resetCore()
  runnerTemp = path.join(tmp, `run-${n++}`)
  process.env.RUNNER_TEMP = runnerTemp
  privateDir = path.join(runnerTemp, 'helm-ecr-publish-xyz')
  await fs.mkdir(path.join(privateDir, 'registry'), { recursive: true })
  await fs.writeFile(
    path.join(privateDir, 'registry', 'config.json'),
    '{"auths":{"h":{"auth":"x"}}}'
  )
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

  it('removes the job-private directory with the registry login in it', async () => {
    saveState({ privateDir })
    await cleanup()
    expect(await exists(privateDir)).toBe(false)
    expect(await exists(runnerTemp)).toBe(true)
    expect(core.info).toHaveBeenCalledWith(`Removed the job's registry login (${privateDir})`)
    expect(core.warning).not.toHaveBeenCalled()
    expect(core.setFailed).not.toHaveBeenCalled()
  })

  it.each([
    ['RUNNER_TEMP itself', () => runnerTemp],
    ['a directory outside RUNNER_TEMP', () => path.join(tmp, 'helm-ecr-publish-abc')],
    ['a nested directory', () => path.join(privateDir, 'registry')],
    ['a sibling with another name', () => path.join(runnerTemp, 'other-dir')],
    ['the bare prefix', () => path.join(runnerTemp, 'helm-ecr-publish-')],
    ['a path that climbs out', () => path.join(runnerTemp, '..', 'helm-ecr-publish-abc')]
  ])('deletes nothing and warns when the state names %s', async (_, dir) => {
    const target = dir()
    await fs.mkdir(target, { recursive: true })
    saveState({ privateDir: target })
    await cleanup()
    expect(fs.rm).not.toHaveBeenCalled()
    expect(await exists(target)).toBe(true)
    expect(core.warning).toHaveBeenCalledWith(expect.stringMatching(/^Not removing /))
    expect(core.setFailed).not.toHaveBeenCalled()
  })

  it('only warns when the directory cannot be removed', async () => {
    vi.mocked(fs.rm).mockRejectedValueOnce(new Error('EBUSY: resource busy or locked'))
    saveState({ privateDir })
    await expect(cleanup()).resolves.toBeUndefined()
    expect(core.warning).toHaveBeenCalledWith(
      `Could not remove ${privateDir}: EBUSY: resource busy or locked`
    )
    expect(core.setFailed).not.toHaveBeenCalled()
  })

  it('is fine when the directory is already gone', async () => {
    saveState({ privateDir: path.join(runnerTemp, 'helm-ecr-publish-gone') })
    await cleanup()
    expect(core.warning).not.toHaveBeenCalled()
  })
})

describe('isPrivateDir', () => {
  it('accepts only helm-ecr-publish-* directly under RUNNER_TEMP', () => {
    expect(isPrivateDir(privateDir)).toBe(true)
    expect(isPrivateDir(`${privateDir}/`)).toBe(true)
    expect(isPrivateDir(path.join(privateDir, 'x'))).toBe(false)
    expect(isPrivateDir('/')).toBe(false)
  })
})
