/**
 * Issue 3: the real download -> verify -> extract -> cache path against a get.helm.sh-layout
 * mirror: a cold runner downloads once, a warm one not at all, a tampered archive is refused
 * and nothing lands in the tool cache.
 */
import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { makeTempDir } from '../../testbed/paths.js'
import { errorLines, runAction } from '../../testbed/runner.js'
import { createRepository, manifestPuts, workspaceWith } from '../../testbed/scenario.js'
import { startStack, type Stack } from '../../testbed/stack.js'

let stack: Stack
let workspace: string
beforeAll(async () => {
  stack = await startStack()
  await createRepository(stack, 'cache/cached')
  workspace = await workspaceWith([{ name: 'cached', version: '1.0.0' }])
})
afterAll(async () => {
  await stack?.stop()
})

const archiveDownloads = (from: number) =>
  stack.mirror.requests.slice(from).filter(p => p.endsWith('.tar.gz'))

const publish = (
  toolCache: string,
  helmVersion: string,
  version: string,
  extra: Record<string, string> = {}
) =>
  runAction({
    workspace,
    toolCache,
    env: stack.actionEnv,
    inputs: {
      charts: 'charts/cached',
      namespace: 'cache',
      version,
      'helm-version': helmVersion,
      'helm-download-url': stack.mirror.url,
      ...extra
    }
  })

it('a cold runner downloads Helm once; a warm one downloads nothing', async () => {
  const toolCache = await makeTempDir('tc-cold')
  let mark = stack.mirror.requests.length
  const cold = await publish(toolCache, HELM_VERSIONS.v4, '1.0.1')
  expect(errorLines(cold.stdout)).toEqual([])
  expect(archiveDownloads(mark)).toEqual([`/helm-v${HELM_VERSIONS.v4}-linux-amd64.tar.gz`])
  expect(stack.mirror.requests.slice(mark)).toContain(
    `/helm-v${HELM_VERSIONS.v4}-linux-amd64.tar.gz.sha256sum`
  )
  expect(cold.stdout).toMatch(/Verified helm-v4\.1\.4-linux-amd64\.tar\.gz \(sha256 [a-f0-9]{64}\)/)
  expect(existsSync(path.join(toolCache, 'helm', HELM_VERSIONS.v4, 'x64', 'helm'))).toBe(true)

  mark = stack.mirror.requests.length
  const warm = await publish(toolCache, HELM_VERSIONS.v4, '1.0.2')
  expect(errorLines(warm.stdout)).toEqual([])
  expect(warm.stdout).toContain('from the tool cache')
  // An exact version in the cache needs no network at all.
  expect(stack.mirror.requests.slice(mark)).toEqual([])
})

it.each([
  ['latest', 'v4.1.4'],
  ['4', 'v4.1.4'],
  ['3', 'v3.18.0']
])('helm-version %s resolves through the mirror to %s', async (spec, expected) => {
  const toolCache = await makeTempDir('tc-resolve')
  const result = await publish(toolCache, spec, `1.1.${spec === 'latest' ? 0 : spec}`)
  expect(errorLines(result.stdout)).toEqual([])
  expect(result.outputs['helm-version']).toBe(expected)
})

it('a tampered archive fails the checksum, is not retried, and leaves nothing in the cache', async () => {
  const toolCache = await makeTempDir('tc-tampered')
  const mark = stack.mirror.requests.length
  const puts = manifestPuts(stack)
  stack.mirror.faults.tamper(HELM_VERSIONS.v3_18)
  try {
    const result = await publish(toolCache, HELM_VERSIONS.v3_18, '1.2.0')
    expect(result.exitCode).toBe(1)
    const errors = errorLines(result.stdout)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      /Helm archive helm-v3\.18\.0-linux-amd64\.tar\.gz failed checksum verification \(expected sha256 [a-f0-9]{64}, got [a-f0-9]{64}\); nothing was installed/
    )
    expect(errors[0]).toContain('helm-download-url')
    expect(archiveDownloads(mark)).toHaveLength(1)
    expect(await readdir(toolCache)).toEqual([])
    expect(manifestPuts(stack)).toBe(puts)
  } finally {
    stack.mirror.faults.clear()
  }
})

it('an http:// mirror with helm-sha256 installs the pinned archive; no .sha256sum is read', async () => {
  const toolCache = await makeTempDir('tc-pinned')
  const mark = stack.mirror.requests.length
  const archive = `helm-v${HELM_VERSIONS.v3_18}-linux-amd64.tar.gz`
  const result = await runAction({
    workspace,
    toolCache,
    env: stack.actionEnv,
    inputs: {
      charts: 'charts/cached',
      namespace: 'cache',
      version: '1.3.0',
      'helm-version': HELM_VERSIONS.v3_18,
      'helm-download-url': stack.mirror.httpUrl,
      'helm-sha256': stack.mirror.archives[HELM_VERSIONS.v3_18].sha256
    }
  })
  expect(errorLines(result.stdout)).toEqual([])
  expect(result.stdout).toContain(`Verified ${archive} (sha256 `)
  expect(result.stdout).toContain('pinned by helm-sha256')
  expect(stack.mirror.requests.slice(mark)).toEqual([`/${archive}`])
})

it('a wrong helm-sha256 refuses the archive, even over https, and installs nothing', async () => {
  const toolCache = await makeTempDir('tc-pin-wrong')
  const puts = manifestPuts(stack)
  const pin = '0'.repeat(64)
  const result = await publish(toolCache, HELM_VERSIONS.v3_18, '1.3.1', { 'helm-sha256': pin })
  expect(result.exitCode).toBe(1)
  expect(errorLines(result.stdout)).toEqual([
    expect.stringMatching(
      new RegExp(
        `^Helm archive helm-v3\\.18\\.0-linux-amd64\\.tar\\.gz does not match "helm-sha256" \\(expected ${pin}, got [a-f0-9]{64}\\); nothing was installed`
      )
    )
  ])
  expect(await readdir(toolCache)).toEqual([])
  expect(manifestPuts(stack)).toBe(puts)
})
