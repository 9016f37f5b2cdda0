/**
 * Issue 3: the bundled action, run like the GitHub runner runs it, publishes to the emulated ECR
 * (SigV4-checked API + ECR-like registry front over a real distribution registry) with real Helm
 * 3.9.4, 3.18.0 and 4.1.4 downloaded from a get.helm.sh-layout mirror.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { errorLines } from '../../testbed/runner.js'
import {
  createRepository,
  describeTag,
  manifestPuts,
  pullChart,
  runOnHelm,
  servedDigest,
  workspaceWith
} from '../../testbed/scenario.js'
import { startStack, type Stack } from '../../testbed/stack.js'

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack?.stop()
})

describe.each(ALL_HELM_VERSIONS)('Helm %s', helmVersion => {
  const short = helmVersion.replace(/\./g, '')
  const run = runOnHelm(() => stack, helmVersion, beforeAll)

  it('first publish with only charts set: the chart lands and pulls back by ref and digest', async () => {
    const chart = `first-${short}`
    await createRepository(stack, chart)
    const workspace = await workspaceWith([{ name: chart, version: '0.1.0', appVersion: '1.0' }])
    const result = await run(workspace, { charts: `charts/${chart}` })
    expect(errorLines(result.stdout)).toEqual([])
    expect(result.exitCode).toBe(0)
    const host = stack.ecr.registryHost
    expect(result.outputs).toMatchObject({
      ref: `oci://${host}/${chart}:0.1.0`,
      repository: `oci://${host}`,
      chart,
      version: '0.1.0',
      registry: host,
      pushed: 'true',
      'helm-version': `v${helmVersion}`
    })
    const digest = await servedDigest(stack, chart, '0.1.0')
    expect(result.outputs.digest).toBe(digest)
    expect(await describeTag(stack, chart, '0.1.0')).toBe(digest)
    expect(JSON.parse(result.outputs.charts)).toEqual([
      {
        chart,
        version: '0.1.0',
        ref: result.outputs.ref,
        digest,
        repository: `oci://${host}`,
        registry: host,
        pushed: true,
        signed: false
      }
    ])
    // A separate Helm pulls the chart back by the output reference and by digest.
    const byRef = await pullChart(stack, helmVersion, result.outputs.ref)
    expect(byRef.chartYaml).toMatch(new RegExp(`name: ${chart}`))
    expect(byRef.chartYaml).toMatch(/version: "?0\.1\.0"?/)
    if (helmVersion !== '3.9.4') {
      const byDigest = await pullChart(stack, helmVersion, `oci://${host}/${chart}@${digest}`)
      expect(byDigest.chartYaml).toMatch(new RegExp(`name: ${chart}`))
    }
    // The job summary has the table and copy-paste usage.
    expect(result.summary).toContain(result.outputs.ref)
    expect(result.summary).toContain(`helm install ${chart} oci://${host}/${chart} --version 0.1.0`)
    expect(result.summary).toContain('resource "helm_release"')
    // Helm is on PATH and the login is exported for later steps; post removes it.
    expect(result.addedPath[0]).toContain(path.join(run.toolCache(), 'helm'))
    expect(result.exportedEnv.HELM_REGISTRY_CONFIG).toBeTruthy()
    expect(result.post?.exitCode).toBe(0)
    expect(existsSync(result.exportedEnv.HELM_REGISTRY_CONFIG)).toBe(false)
  })

  it('tag pipeline: v1.4.0 publishes 1.4.0; +build versions get the _ tag', async () => {
    const chart = `tagged-${short}`
    await createRepository(stack, `releases/${chart}`)
    const workspace = await workspaceWith([{ name: chart, version: '0.0.1' }])
    const tagged = await run(workspace, {
      charts: `charts/${chart}`,
      namespace: 'releases',
      version: 'v1.4.0'
    })
    expect(errorLines(tagged.stdout)).toEqual([])
    expect(tagged.outputs.version).toBe('1.4.0')
    expect(tagged.outputs.ref).toBe(`oci://${stack.ecr.registryHost}/releases/${chart}:1.4.0`)
    expect(tagged.outputs.repository).toBe(`oci://${stack.ecr.registryHost}/releases`)

    const build = await run(workspace, {
      charts: `charts/${chart}`,
      namespace: 'releases',
      version: '1.5.0+build.7',
      'app-version': '2.0.0'
    })
    if (helmVersion === '3.18.0') {
      // Helm 3.18.0 cannot push build-metadata versions at all (helm/helm#30881): refused up front.
      expect(build.exitCode).toBe(1)
      expect(errorLines(build.stdout)).toEqual([
        expect.stringContaining('Helm 3.18.0 cannot push version 1.5.0+build.7')
      ])
      return
    }
    expect(errorLines(build.stdout)).toEqual([])
    expect(build.outputs.version).toBe('1.5.0+build.7')
    expect(build.outputs.ref).toBe(
      `oci://${stack.ecr.registryHost}/releases/${chart}:1.5.0_build.7`
    )
    expect(await servedDigest(stack, `releases/${chart}`, '1.5.0_build.7')).toBe(
      build.outputs.digest
    )
    const pulled = await pullChart(stack, helmVersion, build.outputs.ref)
    expect(pulled.chartYaml).toMatch(/version: "?1\.5\.0\+build\.7"?/)
    expect(pulled.chartYaml).toMatch(/appVersion: "?2\.0\.0"?/)
  })

  it('a missing repository fails with one line naming it; create-repository creates it', async () => {
    const chart = `missing-${short}`
    const workspace = await workspaceWith([{ name: chart, version: '0.1.0' }])
    const puts = manifestPuts(stack)
    const failed = await run(workspace, { charts: `charts/${chart}`, namespace: 'team' })
    expect(failed.exitCode).toBe(1)
    const errors = errorLines(failed.stdout)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`Repository "team/${chart}" does not exist`)
    expect(errors[0]).toContain('create-repository: true')
    expect(errors[0]).toContain(`aws ecr create-repository --repository-name team/${chart}`)
    expect(failed.stdout + failed.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/) // no stack trace
    expect(manifestPuts(stack)).toBe(puts)

    const created = await run(workspace, {
      charts: `charts/${chart}`,
      namespace: 'team',
      'create-repository': 'true',
      'image-tag-mutability': 'IMMUTABLE'
    })
    expect(errorLines(created.stdout)).toEqual([])
    expect(created.exitCode).toBe(0)
    expect(stack.ecr.repositories()[`team/${chart}`]?.mutability).toBe('IMMUTABLE')
    expect(created.outputs.pushed).toBe('true')
  })

  it('skip-existing pushes nothing on a re-run; without it an immutable repository fails clearly', async () => {
    const chart = `again-${short}`
    const workspace = await workspaceWith([{ name: chart, version: '3.0.0' }])
    const inputs = {
      charts: `charts/${chart}`,
      namespace: 'immutable',
      'create-repository': 'true',
      'image-tag-mutability': 'IMMUTABLE'
    }
    const first = await run(workspace, inputs)
    expect(first.exitCode).toBe(0)
    const puts = manifestPuts(stack)
    const describes = stack.ecr.apiCallCounts().DescribeImages ?? 0

    const skipped = await run(workspace, { ...inputs, 'skip-existing': 'true' })
    expect(errorLines(skipped.stdout)).toEqual([])
    expect(skipped.outputs.pushed).toBe('false')
    expect(skipped.outputs.digest).toBe(first.outputs.digest)
    expect(manifestPuts(stack)).toBe(puts)
    expect((stack.ecr.apiCallCounts().DescribeImages ?? 0) - describes).toBe(1)
    expect(skipped.summary).toContain('skipped')

    // Different content, same version: ECR refuses to move an immutable tag.
    const conflict = await run(workspace, { ...inputs, 'app-version': 'changed' })
    expect(conflict.exitCode).toBe(1)
    const errors = errorLines(conflict.stdout)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatch(
      helmVersion === '3.9.4'
        ? new RegExp(
            `^Chart ${chart} version 3\\.0\\.0: registry .*means the version already exists`
          )
        : new RegExp(`${chart} version 3.0.0 already exists`)
    )
    expect(errors[0]).toContain('skip-existing: true')
    expect(await servedDigest(stack, `immutable/${chart}`, '3.0.0')).toBe(first.outputs.digest)
  })

  it('charts with dependencies: a local file:// one and an OCI one in the same ECR', async () => {
    const ns = `deps${short}`
    const host = stack.ecr.registryHost
    const workspace = await workspaceWith([
      { name: 'base-lib', version: '0.2.0' },
      {
        name: 'with-file-dep',
        version: '1.0.0',
        dependencies: [{ name: 'base-lib', version: '0.2.0', repository: 'file://../base-lib' }]
      },
      {
        name: 'with-oci-dep',
        version: '1.0.0',
        dependencies: [{ name: 'base-lib', version: '0.2.0', repository: `oci://${host}/${ns}` }]
      }
    ])
    const common = { namespace: ns, 'create-repository': 'true' }
    // base-lib first (the OCI dependency must exist), then the two dependants in one step.
    const base = await run(workspace, { ...common, charts: 'charts/base-lib' })
    expect(errorLines(base.stdout)).toEqual([])
    const dependants = await run(workspace, {
      ...common,
      charts: 'charts/with-file-dep\ncharts/with-oci-dep'
    })
    expect(errorLines(dependants.stdout)).toEqual([])
    expect(dependants.exitCode).toBe(0)
    const results = JSON.parse(dependants.outputs.charts) as { chart: string; pushed: boolean }[]
    expect(results.map(r => [r.chart, r.pushed])).toEqual([
      ['with-file-dep', true],
      ['with-oci-dep', true]
    ])
    for (const chart of ['with-file-dep', 'with-oci-dep']) {
      const pulled = await pullChart(stack, helmVersion, `oci://${host}/${ns}/${chart}:1.0.0`)
      expect(pulled.chartYaml).toContain('base-lib')
    }
    // The OCI dependency was resolved through the action's login, in the job-private copy:
    // the checkout gets no Chart.lock or charts/ (the published chart carries them).
    for (const chart of ['with-file-dep', 'with-oci-dep']) {
      expect(existsSync(path.join(workspace, 'charts', chart, 'Chart.lock'))).toBe(false)
      expect(existsSync(path.join(workspace, 'charts', chart, 'charts'))).toBe(false)
    }
  })
})

describe("Helm 4.1.4: a chart's own problem", () => {
  const run = runOnHelm(() => stack, '4.1.4', beforeAll)

  it('one invalid Chart.yaml fails that chart in one annotated line; the other publishes', async () => {
    const good = 'valid-next-to-bad'
    await createRepository(stack, good)
    const workspace = await workspaceWith([
      { name: good, version: '0.1.0' },
      { name: 'badver', version: '1.2' }
    ])
    const result = await run(workspace, { charts: `charts/${good}\ncharts/badver` })
    expect(result.exitCode).toBe(1)
    expect(errorLines(result.stdout)).toEqual([
      'charts/badver/Chart.yaml version "1.2" is not SemVer 2: fix Chart.yaml or set the "version" input.',
      `1 of 2 charts failed (badver); 1 pushed: see the errors above for each chart's reason.`
    ])
    expect(result.stdout).toMatch(/^::error file=charts\/badver\/Chart\.yaml::charts\/badver/m)
    const charts = JSON.parse(result.outputs.charts) as {
      chart: string
      pushed: boolean
      digest: string
    }[]
    expect(charts).toMatchObject([
      { chart: good, pushed: true },
      { chart: 'badver', pushed: false, error: expect.stringMatching(/not SemVer 2/) }
    ])
    expect(await describeTag(stack, good, '0.1.0')).toBe(charts[0].digest)
    expect(result.summary).toContain('badver')
    expect(result.stdout).toMatch(/^1 pushed, 0 skipped, 1 failed in \d+\.\d s$/m)
  })
})
