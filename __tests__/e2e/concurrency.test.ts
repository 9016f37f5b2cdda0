/**
 * Reliability: two runs publishing the same chart version at the same moment (two workflows on
 * one tag, a re-run racing the first run) with skip-existing. Either one pushes and the other
 * skips, reporting the digest that won, or both push identical bytes; never a corrupt chart or a
 * tag that points at something neither run reported. Only a race of different contents fails one
 * run, naming the difference (skip-existing never skips other content).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { errorLines, runAction, type RunActionResult } from '../../testbed/runner.js'
import { describeTag, pullChart, servedDigest, workspaceWith } from '../../testbed/scenario.js'
import { startStack, type Stack } from '../../testbed/stack.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'

let stack: Stack
let toolCache: string
let workspace: string
beforeAll(async () => {
  stack = await startStack()
  toolCache = await prewarmedToolCache(ALL_HELM_VERSIONS)
  workspace = await workspaceWith([{ name: 'racer', version: '0.0.1' }])
})
afterAll(async () => {
  await stack?.stop()
})

/** One run of the race; `appVersion` makes the two packages differ when wanted. */
function racer(
  namespace: string,
  helmVersion: string,
  mutability: 'MUTABLE' | 'IMMUTABLE',
  version: string,
  appVersion: string
): Promise<RunActionResult> {
  return runAction({
    workspace,
    toolCache,
    env: stack.actionEnv,
    inputs: {
      charts: 'charts/racer',
      namespace,
      version,
      'app-version': appVersion,
      'create-repository': 'true',
      'image-tag-mutability': mutability,
      'skip-existing': 'true',
      'helm-version': helmVersion,
      'helm-download-url': stack.mirror.url
    }
  })
}

interface Outcome {
  pushed: boolean
  digest: string
  /** The run's log. */
  stdout: string
}

function outcome(result: RunActionResult): Outcome {
  expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
  expect(result.exitCode).toBe(0)
  expect(result.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/)
  return {
    pushed: result.outputs.pushed === 'true',
    digest: result.outputs.digest,
    stdout: result.stdout
  }
}

/** Races two runs; returns both outcomes and what the registry serves afterwards. */
async function race(
  namespace: string,
  helmVersion: string,
  mutability: 'MUTABLE' | 'IMMUTABLE',
  version: string,
  appVersions: [string, string]
): Promise<{ a: Outcome; b: Outcome; served: string }> {
  const [ra, rb] = await Promise.all(
    appVersions.map(app => racer(namespace, helmVersion, mutability, version, app))
  )
  const a = outcome(ra)
  const b = outcome(rb)
  const repository = `${namespace}/racer`
  const served = await servedDigest(stack, repository, version)
  // ECR's API and the registry agree, and only that one tag exists.
  expect(await describeTag(stack, repository, version)).toBe(served)
  expect(stack.ecr.repositories()[repository].imageTags).toEqual([version])
  // The chart behind the tag is whole: a separate Helm pulls it back and reads its Chart.yaml.
  const pulled = await pullChart(
    stack,
    helmVersion,
    `oci://${stack.ecr.registryHost}/${repository}:${version}`
  )
  expect(pulled.chartYaml).toContain('name: racer')
  expect(pulled.chartYaml).toMatch(new RegExp(`version: "?${version.replace(/\./g, '\\.')}"?`))
  return { a, b, served }
}

describe.each(ALL_HELM_VERSIONS)('Helm %s', helmVersion => {
  const short = helmVersion.replace(/\./g, '')

  it('IMMUTABLE repository, different contents: exactly one push; the other run fails naming the different content (never a skip)', async () => {
    const namespace = `imm-diff-${short}`
    const [ra, rb] = await Promise.all(
      ['build-a', 'build-b'].map(app => racer(namespace, helmVersion, 'IMMUTABLE', '1.0.0', app))
    )
    const served = await servedDigest(stack, `${namespace}/racer`, '1.0.0')
    const winner = ra.outputs.pushed === 'true' ? ra : rb
    const loser = winner === ra ? rb : ra
    expect(winner.exitCode).toBe(0)
    expect(winner.outputs.digest).toBe(served)
    expect(loser.outputs.pushed).not.toBe('true')
    // Whether it saw the winner's tag before packaging or lost the tag write to it, content-aware
    // skip-existing compares and refuses the other content.
    expect(loser.exitCode).toBe(1)
    expect(errorLines(loser.stdout).join('\n')).toMatch(
      /already published \(.*racer:1\.0\.0\) with different content \(Chart\.yaml changed\)/
    )
  })

  it('IMMUTABLE repository, same inputs: one push and one skip, or two identical digests', async () => {
    const { a, b, served } = await race(`imm-same-${short}`, helmVersion, 'IMMUTABLE', '1.0.0', [
      'same',
      'same'
    ])
    expect(a.digest).toBe(served)
    expect(b.digest).toBe(served)
    expect(a.pushed || b.pushed).toBe(true)
  })

  it('MUTABLE repository: both succeed and the tag ends on a digest one of them reported', async () => {
    const { a, b, served } = await race(`mut-${short}`, helmVersion, 'MUTABLE', '1.0.0', [
      'build-a',
      'build-b'
    ])
    expect(a.pushed || b.pushed).toBe(true)
    // Different contents race on a mutable tag: the last write wins, and a run that skipped
    // reports the digest it found, which is then the served one.
    expect([a.digest, b.digest]).toContain(served)
    for (const o of [a, b]) if (!o.pushed) expect(o.digest).toBe(served)
  })
})
