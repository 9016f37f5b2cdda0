import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
// The real fs/promises, with rm replaceable per test.
vi.mock('node:fs/promises', async () => {
  const actual = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises')
  return { ...actual, default: actual, rm: vi.fn(actual.rm) }
})

const { cleanup } = await import('../../src/runtime/cleanup.js')
const { isPrivateDir } = await import('../../src/runtime/paths.js')

let tmp: string
let runnerTemp: string
let privateDir: string
let n = 0
const savedRunnerTemp = process.env.RUNNER_TEMP
const STATE = 'STATE_registryConfigDir'

/** What the runner does between main and post: a saved state key becomes STATE_<key>. */
function saveState({ privateDir }: { privateDir: string }): void {
  process.env[STATE] = privateDir
}

/** The post step's stdout, line by line (it writes workflow commands there, not through @actions/core). */
let stdout: string[]
const warnings = (): string[] =>
  stdout.filter(l => l.startsWith('::warning::')).map(l => l.slice('::warning::'.length))

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
  delete process.env[STATE]
  stdout = []
  vi.spyOn(process.stdout, 'write').mockImplementation(chunk => {
    stdout.push(...String(chunk).split('\n').filter(Boolean))
    return true
  })
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
  vi.mocked(process.stdout.write).mockRestore()
  delete process.env[STATE]
})

describe('cleanup', () => {
  it('does nothing when main saved no state', async () => {
    await cleanup()
    expect(fs.rm).not.toHaveBeenCalled()
    expect(stdout).toEqual([])
  })

  it('removes the job-private directory with the registry login in it', async () => {
    saveState({ privateDir })
    await cleanup()
    expect(await exists(privateDir)).toBe(false)
    expect(await exists(runnerTemp)).toBe(true)
    expect(stdout).toEqual([`Removed the job's registry login (${privateDir})`])
    expect(process.exitCode ?? 0).toBe(0)
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
    expect(warnings()).toEqual([expect.stringMatching(/^Not removing /)])
    expect(stdout).toHaveLength(1)
    expect(process.exitCode ?? 0).toBe(0)
  })

  it('only warns when the directory cannot be removed', async () => {
    vi.mocked(fs.rm).mockRejectedValueOnce(new Error('EBUSY: resource busy or locked'))
    saveState({ privateDir })
    await expect(cleanup()).resolves.toBeUndefined()
    expect(stdout).toEqual([
      `::warning::Could not remove ${privateDir}: EBUSY: resource busy or locked`
    ])
    expect(process.exitCode ?? 0).toBe(0)
  })

  it('is fine when the directory is already gone', async () => {
    saveState({ privateDir: path.join(runnerTemp, 'helm-ecr-publish-gone') })
    await cleanup()
    expect(warnings()).toEqual([])
  })

  it('keeps a warning one workflow command when the path holds a newline or %', async () => {
    const target = path.join(tmp, 'evil\n::error::x%')
    saveState({ privateDir: target })
    await cleanup()
    expect(stdout).toHaveLength(1)
    expect(stdout[0]).toMatch(/^::warning::Not removing .*evil%0A::error::x%25: it is not a/)
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
