/**
 * Issue 4: many charts in one step — globs, ordering by dependencies, bounded parallelism,
 * skip-existing checked up front, and one broken chart not hiding the others.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { makeTempDir } from '../../testbed/paths.js'
import { errorLines, runAction } from '../../testbed/runner.js'
import { manifestPuts, pullChart, servedDigest } from '../../testbed/scenario.js'
import { makeChart, startStack, type Stack } from '../../testbed/stack.js'

let stack: Stack
beforeAll(async () => {
  stack = await startStack()
})
afterAll(async () => {
  await stack?.stop()
})

interface ChartOutput {
  chart: string
  version: string
  ref: string
  digest: string
  repository: string
  pushed: boolean
  error?: string
}

/** 9 independent charts, two siblings, and an umbrella depending on both (file:// and oci://). */
async function releaseTrain(
  ns: string,
  extra: (workspace: string) => Promise<void> = async () => {}
) {
  const workspace = await makeTempDir('train')
  const host = stack.ecr.registryHost
  for (let i = 1; i <= 9; i++) {
    await makeChart(path.join(workspace, 'charts', `svc-${i}`), {
      name: `svc-${i}`,
      version: '1.0.0'
    })
  }
  await makeChart(path.join(workspace, 'charts', 'sib-a'), { name: 'sib-a', version: '1.0.0' })
  await makeChart(path.join(workspace, 'charts', 'sib-b'), { name: 'sib-b', version: '1.0.0' })
  await makeChart(path.join(workspace, 'charts', 'umbrella'), {
    name: 'umbrella',
    version: '1.0.0',
    dependencies: [
      { name: 'sib-a', version: '1.0.0', repository: 'file://../sib-a' },
      { name: 'sib-b', version: '1.0.0', repository: `oci://${host}/${ns}` }
    ]
  })
  await writeFile(path.join(workspace, 'charts', 'README.md'), 'not a chart\n')
  await extra(workspace)
  return workspace
}

describe.each([HELM_VERSIONS.v4, HELM_VERSIONS.v3_9])('Helm %s', helmVersion => {
  const short = helmVersion.replace(/\./g, '')
  let toolCache: string
  beforeAll(async () => {
    toolCache = await makeTempDir(`tc-many-${short}`)
  })
  const run = (workspace: string, inputs: Record<string, string>) =>
    runAction({
      workspace,
      toolCache,
      env: stack.actionEnv,
      inputs: { 'helm-version': helmVersion, 'helm-download-url': stack.mirror.url, ...inputs }
    })

  it('12 charts publish in dependency order with one Helm install and one token; a re-run skips them all', async () => {
    const ns = `train${short}`
    const workspace = await releaseTrain(ns)
    const downloads = stack.mirror.requests.length
    const tokens = stack.ecr.apiCallCounts().GetAuthorizationToken ?? 0
    const requestsBefore = stack.ecr.registryRequests.length
    const result = await run(workspace, {
      // Duplicates (a Chart.yaml path of a chart the glob matches too) are removed.
      charts: 'charts/*\ncharts/sib-a/Chart.yaml',
      namespace: ns,
      'create-repository': 'true',
      'max-parallel': '4'
    })
    expect(errorLines(result.stdout)).toEqual([])
    expect(result.exitCode).toBe(0)
    const charts = JSON.parse(result.outputs.charts) as ChartOutput[]
    expect(charts).toHaveLength(12)
    expect(charts.every(c => c.pushed && /^sha256:[a-f0-9]{64}$/.test(c.digest))).toBe(true)
    expect(charts.map(c => c.chart).sort()).toEqual(
      ['sib-a', 'sib-b', 'umbrella', ...Array.from({ length: 9 }, (_, i) => `svc-${i + 1}`)].sort()
    )
    // Single-value outputs describe the first chart in input order (glob results are sorted).
    expect(result.outputs.chart).toBe(charts[0].chart)
    expect(result.outputs.ref).toBe(charts[0].ref)
    // One Helm download (archive + checksum + version file at most) and one token for the run.
    const mirrorHits = stack.mirror.requests.slice(downloads)
    expect(mirrorHits.filter(p => p.endsWith('.tar.gz'))).toHaveLength(1)
    expect((stack.ecr.apiCallCounts().GetAuthorizationToken ?? 0) - tokens).toBe(1)
    // Order: both siblings' manifests were tagged before the umbrella touched the registry.
    const requests = stack.ecr.registryRequests.slice(requestsBefore)
    const lastSiblingPut = Math.max(
      ...['sib-a', 'sib-b'].map(name =>
        requests.findLastIndex(
          r => r.method === 'PUT' && r.path.startsWith(`/v2/${ns}/${name}/manifests/`)
        )
      )
    )
    const firstUmbrella = requests.findIndex(r => r.path.startsWith(`/v2/${ns}/umbrella/`))
    expect(lastSiblingPut).toBeGreaterThanOrEqual(0)
    expect(firstUmbrella).toBeGreaterThan(lastSiblingPut)
    // Every digest is what the registry serves; the umbrella pulls back with both dependencies.
    for (const c of charts) {
      expect(await servedDigest(stack, `${ns}/${c.chart}`, '1.0.0')).toBe(c.digest)
    }
    const umbrella = charts.find(c => c.chart === 'umbrella') as ChartOutput
    const pulled = await pullChart(stack, helmVersion, umbrella.ref)
    expect(pulled.chartYaml).toContain('sib-a')
    expect(pulled.chartYaml).toContain('sib-b')
    // The summary lists every chart.
    for (const c of charts) expect(result.summary).toContain(c.ref)

    // Re-run with skip-existing: one DescribeImages per repository, nothing pushed.
    const puts = manifestPuts(stack)
    const describes = stack.ecr.apiCallCounts().DescribeImages ?? 0
    const requestsBeforeRerun = stack.ecr.registryRequests.length
    const again = await run(workspace, {
      charts: 'charts/*',
      namespace: ns,
      'skip-existing': 'true'
    })
    expect(errorLines(again.stdout)).toEqual([])
    const skipped = JSON.parse(again.outputs.charts) as ChartOutput[]
    expect(skipped).toHaveLength(12)
    expect(skipped.every(c => !c.pushed)).toBe(true)
    expect(skipped.map(c => c.digest)).toEqual(charts.map(c => c.digest))
    expect(manifestPuts(stack)).toBe(puts)
    expect((stack.ecr.apiCallCounts().DescribeImages ?? 0) - describes).toBe(12)
    // Digest-first: a chart whose package has the published digest is not pulled (only sib-b
    // is fetched, as the umbrella's oci:// dependency).
    const fetched = stack.ecr.registryRequests
      .slice(requestsBeforeRerun)
      .filter(r => r.method === 'GET' && /\/(blobs|manifests)\//.test(r.path))
      .map(r => r.path.split('/')[3])
    expect(fetched.filter(name => name !== 'sib-b')).toEqual([])
    expect(again.stdout.match(/the digest of this run's package; skipped/g)).toHaveLength(12)
  })

  it('one broken chart fails the step at the end while the others are published and reported', async () => {
    const ns = `broken${short}`
    const workspace = await releaseTrain(ns, async ws => {
      await makeChart(path.join(ws, 'charts', 'broken'), {
        name: 'broken',
        version: '1.0.0',
        dependencies: [{ name: 'gone', version: '1.0.0', repository: 'file://../does-not-exist' }]
      })
    })
    const result = await run(workspace, {
      charts: 'charts/*',
      namespace: ns,
      'create-repository': 'true'
    })
    expect(result.exitCode).toBe(1)
    const charts = JSON.parse(result.outputs.charts) as ChartOutput[]
    expect(charts).toHaveLength(13)
    const broken = charts.find(c => c.chart === 'broken') as ChartOutput
    expect(broken.pushed).toBe(false)
    expect(broken.error).toBeTruthy()
    expect(charts.filter(c => c.pushed)).toHaveLength(12)
    const errors = errorLines(result.stdout)
    expect(errors).toHaveLength(2)
    expect(errors[0]).toMatch(/^Chart broken 1\.0\.0: /)
    expect(errors[1]).toContain('1 of 13 charts failed (broken); 12 pushed')
    expect(result.summary).toContain('failed')
    expect(result.summary).toContain(charts.find(c => c.chart === 'umbrella')?.ref)
  })
})

it('a dependency cycle between charts of one step is refused up front, naming them', async () => {
  const workspace = await makeTempDir('cycle')
  await makeChart(path.join(workspace, 'charts', 'ping'), {
    name: 'ping',
    version: '1.0.0',
    dependencies: [{ name: 'pong', version: '1.0.0', repository: 'file://../pong' }]
  })
  await makeChart(path.join(workspace, 'charts', 'pong'), {
    name: 'pong',
    version: '1.0.0',
    dependencies: [{ name: 'ping', version: '1.0.0', repository: 'file://../ping' }]
  })
  const puts = manifestPuts(stack)
  const result = await runAction({
    workspace,
    env: stack.actionEnv,
    inputs: {
      charts: 'charts/*',
      'helm-version': HELM_VERSIONS.v4,
      'helm-download-url': stack.mirror.url
    }
  })
  expect(result.exitCode).toBe(1)
  const errors = errorLines(result.stdout)
  expect(errors).toHaveLength(1)
  expect(errors[0]).toMatch(/cycle \((ping -> pong -> ping|pong -> ping -> pong)\)/)
  expect(manifestPuts(stack)).toBe(puts)
})
