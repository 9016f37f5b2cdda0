import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'
import { FakeHelm, fakeDigest } from '../fixtures/fake-helm.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { publishCharts } = await import('../../src/publish/pipeline.js')
const { lintInBatches } = await import('../../src/dry-run/lint.js')
const { DryRunDestination } = await import('../../src/dry-run/dry-run-destination.js')
const { RegistryDestination } = await import('../../src/publish/registry-destination.js')
const { LocalDigests } = await import('../../src/publish/local-digest.js')
const { Once } = await import('../../src/publish/once.js')
const { whenLoggedIn } = await import('../../src/publish/publish.js')
const { Helm } = await import('../../src/helm/helm.js')
const { makeJob } = await import('../../src/publish/plan.js')
type PublishSettings = import('../../src/publish/publish.js').PublishSettings
type RetryPolicy = import('../../src/runtime/retry.js').RetryPolicy
type RegistryKind = import('../../src/registry/registry-kind.js').RegistryKind
type ChartJob = import('../../src/model.js').ChartJob
type Target = import('../../src/model.js').Target

const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const target: Target = { host: HOST, namespace: 'charts', repositoryPrefix: 'charts' }
const here = path.dirname(new URL(import.meta.url).pathname)
const unitOutput = (name: string) =>
  fs
    .readFile(path.join(here, '..', 'fixtures', 'helm-output-unit', name), 'utf8')
    .then(t => t.trim())

/** Helm 3.9.4 pushing another digest to an immutable tag (e2e recording 3.9.4-push-tag-immutable). */
const MANIFEST_REFUSED_394 =
  'Error: failed commit on ref "manifest-sha256:c4bf8d0b8727ab3bebab37532956cbaaa9917a70f2bc4144ee79ae2b8ab27103": unexpected status: 400 Bad Request'

let tmp: string
let n = 0
let ws: string
let fake: FakeHelm
let helm: InstanceType<typeof Helm>

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'publish-test-'))
})
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true })
})

beforeEach(async () => {
  core.resetCore()
  const dir = path.join(tmp, `run-${n++}`)
  ws = path.join(dir, 'ws')
  await fs.mkdir(path.join(dir, 'work'), { recursive: true })
  fake = await FakeHelm.create(path.join(dir, 'fake'), { HELM_FAKE_PUSH_SLEEP: '0.05' })
  helm = new Helm({ path: fake.path, version: 'v3.18.0', env: fake.env })
})

/** A chart directory in the workspace and its job; `deps` are indexes of other jobs. */
async function chartJob(
  name: string,
  version = '1.0.0',
  dependsOn: number[] = []
): Promise<ChartJob> {
  const dir = path.join(ws, 'charts', name)
  await fs.mkdir(dir, { recursive: true })
  await fs.writeFile(
    path.join(dir, 'Chart.yaml'),
    `apiVersion: v2\nname: ${name}\nversion: ${version}\n`
  )
  const job = makeJob(
    { kind: 'dir', path: dir, display: `charts/${name}` },
    { name, version, dependencies: [] },
    version,
    target
  )
  job.dependsOn = dependsOn
  return job
}

/** What a test varies: settings, the registry's answers, the login in flight. */
interface Scenario extends Partial<Omit<PublishSettings, 'packaging'>> {
  appVersion?: string
  versionOverride?: boolean
  retry?: RetryPolicy
  /** Digests already in the registry, by job index (skip-existing's lookup finds them). */
  existing?: Map<number, string>
  /** skip-existing lookups that fail, by job index. */
  preflightErrors?: Map<number, string>
  /** Later lookups (after a refused push): the registry's answer. */
  lookupTag?: (job: ChartJob) => Promise<string | undefined>
  loginReady?: Promise<void>
  repositoryReady?: (job: ChartJob) => Promise<void>
  /** A dry run, with or without credentials (then the registry is not checked). */
  dryRun?: { registryChecked: boolean }
  /** The login starts before any chart (main: a real run without skip-existing). */
  eagerLogin?: boolean
}

const workDir = () => path.join(fake.dir, '..', 'work')

/** A registry kind whose first lookup of a job answers from `existing`, later ones from lookupTag. */
function fakeKind(s: Scenario, jobs: ChartJob[]): RegistryKind {
  const looked = new Set<ChartJob>()
  return {
    name: 'ecr',
    authenticate: async () => ({ host: HOST, username: 'AWS', password: 'p' }),
    target: () => target,
    ensureRepository: async job => s.repositoryReady?.(job),
    findTag: async job => {
      const i = jobs.indexOf(job)
      if (!looked.has(job) && (s.skipExisting || s.dryRun)) {
        looked.add(job)
        const error = s.preflightErrors?.get(i)
        if (error) throw new Error(error)
        return s.existing?.get(i)
      }
      return s.lookupTag?.(job)
    },
    missingRepositoryFix: name =>
      `create it with "aws ecr create-repository --repository-name ${name}".`,
    pushPermissionFix: 'check that the job may push there (ecr:PutImage).'
  }
}

/** The reproducible archives' timestamp, as main always gives it. */
const sourceEpoch = async () => ({ seconds: 1700000000, from: 'SOURCE_DATE_EPOCH' as const })

/** publishCharts as main wires it: the destination main would choose, the login in flight. */
function run(jobs: ChartJob[], s: Scenario = {}) {
  const scenario = {
    ...s,
    skipExisting: s.skipExisting ?? Boolean(s.existing ?? s.preflightErrors)
  }
  const ensured: ChartJob[] = []
  const base = fakeKind(scenario, jobs)
  const kind: RegistryKind = {
    ...base,
    ensureRepository: async job => {
      ensured.push(job)
      return base.ensureRepository(job)
    }
  }
  let logins = 0
  const login = new Once(async () => {
    logins++
    await (s.loginReady ?? Promise.resolve())
  })
  if (s.eagerLogin ?? !s.dryRun) login.start()
  const loggedIn = whenLoggedIn(login)
  const local = new LocalDigests(helm, target.namespace)
  const destination = s.dryRun
    ? new DryRunDestination(helm, local, ws)
    : new RegistryDestination({
        helm,
        kind,
        target,
        loggedIn,
        skipExisting: scenario.skipExisting,
        local,
        retry: s.retry ?? { retries: 3, minTimeoutMs: 5, factor: 2 }
      })
  const results = publishCharts(
    helm,
    jobs,
    destination,
    {
      helm,
      kind,
      target,
      loggedIn,
      workDir: workDir(),
      checked: s.dryRun ? s.dryRun.registryChecked : true,
      login
    },
    {
      packaging: {
        workspace: ws,
        versionOverride: s.versionOverride ?? false,
        appVersion: s.appVersion,
        sourceEpoch
      },
      skipExisting: scenario.skipExisting,
      maxParallel: s.maxParallel ?? 4,
      afterPublish: s.afterPublish
    }
  ).finally(() => destination.close())
  return { results, ensured, logins: () => logins }
}

function publish(jobs: ChartJob[], s: Scenario = {}) {
  return run(jobs, s).results
}

async function pushes(chart?: string): Promise<string[][]> {
  return (await fake.calls())
    .map(c => c.argv)
    .filter(
      argv =>
        argv[0] === 'push' &&
        !argv[2].startsWith('oci://127.0.0.1:') && // the in-process registry: the own digest
        (!chart || path.basename(argv[1]).startsWith(`${chart}-`))
    )
}

/** Largest number of charts between their "start package" and their last "end push". */
function maxConcurrent(log: string[]): number {
  let active = 0
  let max = 0
  for (const line of log) {
    if (line.startsWith('start package')) max = Math.max(max, ++active)
    if (/^end push \S+$/.test(line)) active--
  }
  return max
}

describe('publishCharts', () => {
  it('packages and pushes every chart, results in input order', async () => {
    const jobs = [await chartJob('alpha', '1.0.0'), await chartJob('beta', '2.1.0+build.3')]
    const results = await publish(jobs)
    expect(results).toEqual([
      {
        chart: 'alpha',
        version: '1.0.0',
        ref: `oci://${HOST}/charts/alpha:1.0.0`,
        digest: fakeDigest('alpha', '1.0.0'),
        repository: `oci://${HOST}/charts`,
        registry: HOST,
        pushed: true,
        signed: false
      },
      {
        chart: 'beta',
        version: '2.1.0+build.3',
        ref: `oci://${HOST}/charts/beta:2.1.0_build.3`,
        digest: fakeDigest('beta', '2.1.0+build.3'),
        repository: `oci://${HOST}/charts`,
        registry: HOST,
        pushed: true,
        signed: false
      }
    ])
    const packages = (await fake.calls()).map(c => c.argv).filter(a => a[0] === 'package')
    // without a version override, Chart.yaml's version is used: no --version
    for (const argv of packages) {
      expect(argv).not.toContain('--version')
      expect(argv[3].startsWith(workDir())).toBe(true)
    }
    expect((await pushes()).map(a => a[2])).toEqual([
      `oci://${HOST}/charts`,
      `oci://${HOST}/charts`
    ])
    expect(core.startGroup).toHaveBeenCalledWith(
      expect.stringMatching(/^alpha 1\.0\.0 \(charts\/alpha\) pushed in \d+\.\d s$/)
    )
    expect(core.info).toHaveBeenCalledWith(
      `Pushed oci://${HOST}/charts/alpha:1.0.0 (${fakeDigest('alpha', '1.0.0')})`
    )
    expect(core.endGroup).toHaveBeenCalledTimes(2)
  })

  it('passes the version override and app version to helm package', async () => {
    const job = await chartJob('alpha', '1.0.0')
    job.version = '3.0.0'
    job.tag = '3.0.0'
    const [result] = await publish([job], { versionOverride: true, appVersion: '9.9.9' })
    const [pkg] = (await fake.calls()).map(c => c.argv).filter(a => a[0] === 'package')
    expect(pkg.slice(4)).toEqual(['--version', '3.0.0', '--app-version', '9.9.9'])
    expect(result).toMatchObject({
      version: '3.0.0',
      digest: fakeDigest('alpha', '3.0.0'),
      pushed: true
    })
  })

  it('pushes a packaged .tgz as it is, from a checked copy in the private directory', async () => {
    const archive = path.join(ws, 'dist', 'gamma-0.3.0.tgz')
    await fs.mkdir(path.dirname(archive), { recursive: true })
    await fs.writeFile(archive, 'gamma 0.3.0\n')
    const job = makeJob(
      { kind: 'tgz', path: archive, display: 'dist/gamma-0.3.0.tgz' },
      { name: 'gamma', version: '0.3.0', dependencies: [{ name: 'x', repository: 'file://../x' }] },
      '0.3.0',
      target
    )
    const [result] = await publish([job])
    expect(result.pushed).toBe(true)
    const calls = (await fake.calls()).map(c => c.argv)
    expect(calls).toEqual([
      [
        'push',
        expect.stringMatching(/\/packaged-[^/]+\/gamma-0\.3\.0\.tgz$/),
        `oci://${HOST}/charts`
      ]
    ])
    expect(path.dirname(calls[0][1])).not.toBe(path.dirname(archive))
  })

  it('builds dependencies first: "dependency update" without Chart.lock, "build" with it', async () => {
    const a = await chartJob('alpha')
    const b = await chartJob('beta')
    const redis =
      'dependencies:\n  - name: redis\n    repository: oci://registry-1.docker.io/bitnamicharts\n'
    for (const job of [a, b]) await fs.appendFile(path.join(job.source.path, 'Chart.yaml'), redis)
    await fs.writeFile(path.join(b.source.path, 'Chart.lock'), 'dependencies: []\n')
    await publish([a, b])
    // Helm builds in the job-private copy of each chart, never in the workspace.
    const deps = (await fake.calls()).map(c => c.argv).filter(x => x[0] === 'dependency')
    expect(deps.map(d => [d[1], path.basename(d[2])]).sort()).toEqual([
      ['build', 'beta'],
      ['update', 'alpha']
    ])
    for (const d of deps) expect(d[2].startsWith(ws)).toBe(false)
    const log = await fake.log()
    expect(log.indexOf('start dependency-update alpha')).toBeLessThan(
      log.indexOf('start package alpha')
    )
  })

  it('publishes a chart only after the charts it depends on', async () => {
    // app -> lib -> base, listed in the reverse order of publication
    const jobs = [
      await chartJob('app', '1.0.0', [1]),
      await chartJob('lib', '1.0.0', [2]),
      await chartJob('base')
    ]
    const results = await publish(jobs, { maxParallel: 4 })
    expect(results.map(r => r.chart)).toEqual(['app', 'lib', 'base'])
    expect(results.every(r => r.pushed)).toBe(true)
    const log = await fake.log()
    expect(log.indexOf('end push base')).toBeLessThan(log.indexOf('start package lib'))
    expect(log.indexOf('end push lib')).toBeLessThan(log.indexOf('start package app'))
  })

  it('runs independent charts in parallel, never more than maxParallel', async () => {
    const jobs = await Promise.all(['c1', 'c2', 'c3', 'c4', 'c5'].map(name => chartJob(name)))
    fake.env.HELM_FAKE_PUSH_SLEEP = '0.15'
    const results = await publish(jobs, { maxParallel: 2 })
    expect(results.every(r => r.pushed)).toBe(true)
    expect(maxConcurrent(await fake.log())).toBe(2)
  })

  it('does not deadlock a dependency chain with maxParallel 1', async () => {
    const jobs = [
      await chartJob('c', '1.0.0', [1]),
      await chartJob('b', '1.0.0', [2]),
      await chartJob('a')
    ]
    const results = await publish(jobs, { maxParallel: 1 })
    expect(results.every(r => r.pushed)).toBe(true)
  })

  it('runs one at a time with maxParallel 1', async () => {
    const jobs = await Promise.all(['c1', 'c2', 'c3'].map(name => chartJob(name)))
    await publish(jobs, { maxParallel: 1 })
    expect(maxConcurrent(await fake.log())).toBe(1)
  })

  it('retries a transient push failure', async () => {
    const job = await chartJob('alpha')
    await fake.failPush('alpha', 2, await unitOutput('push-503.helm-3.18.0.stderr.txt'))
    const [result] = await publish([job])
    expect(result).toMatchObject({ pushed: true, digest: fakeDigest('alpha', '1.0.0') })
    expect(await pushes('alpha')).toHaveLength(3)
    expect(core.info).toHaveBeenCalledWith(
      expect.stringMatching(
        /^Push attempt 1 failed \(helm push failed: failed to perform "Push" on destination: .*503: Service Unavailable\); retrying$/
      )
    )
    expect(core.info).toHaveBeenCalledWith(expect.stringMatching(/^Push attempt 2 failed/))
  })

  it('retries the "Tag ... not found" flake', async () => {
    const job = await chartJob('alpha')
    await fake.failPush('alpha', 1, await unitOutput('push-tag-not-found.helm-4.1.4.stderr.txt'))
    expect((await publish([job]))[0].pushed).toBe(true)
    expect(await pushes('alpha')).toHaveLength(2)
  })

  it('gives up after the retries and reports the last failure', async () => {
    const job = await chartJob('alpha')
    await fake.failPush('alpha', 10, await unitOutput('push-503.helm-3.18.0.stderr.txt'))
    const [result] = await publish([job], { retry: { retries: 2, minTimeoutMs: 5, factor: 2 } })
    expect(await pushes('alpha')).toHaveLength(3)
    expect(result.pushed).toBe(false)
    expect(result.error).toBe(
      `Registry ${HOST} kept failing the push of charts/alpha after 3 attempts (failed to perform "Push" on destination: POST "https://${HOST}/v2/charts/mychart/blobs/uploads/": response status code 503: Service Unavailable): check the registry's status and the runner's network, then re-run.`
    )
    expect(core.startGroup).toHaveBeenCalledWith(
      expect.stringMatching(/^alpha 1\.0\.0 \(charts\/alpha\) failed in /)
    )
    expect(core.info).toHaveBeenCalledWith(`Failed: ${result.error}`)
  })

  it('does not retry a missing repository and says how to create it', async () => {
    const job = await chartJob('alpha')
    await fake.failPush(
      'alpha',
      5,
      await unitOutput('push-missing-repository.helm-4.1.4.stderr.txt')
    )
    const [result] = await publish([job])
    expect(await pushes('alpha')).toHaveLength(1)
    expect(result.error).toBe(
      `Repository "charts/alpha" does not exist in ${HOST}: create it with "aws ecr create-repository --repository-name charts/alpha".`
    )
    expect(result).toMatchObject({
      pushed: false,
      digest: '',
      ref: `oci://${HOST}/charts/alpha:1.0.0`
    })
  })

  it('does not retry an immutable tag and suggests skip-existing', async () => {
    const job = await chartJob('alpha', '0.1.0')
    await fake.failPush('alpha', 5, await unitOutput('push-immutable.helm-4.1.4.stderr.txt'))
    const [result] = await publish([job])
    expect(await pushes('alpha')).toHaveLength(1)
    expect(result.error).toBe(
      `Chart alpha version 0.1.0 already exists in ${HOST}/charts/alpha and its tags are immutable: set "skip-existing: true" to skip published versions, or bump the chart version.`
    )
  })

  it('explains a manifest refused by Helm 3.8-3.17 (no reason shown) as a likely immutable tag', async () => {
    const job = await chartJob('alpha', '0.1.0')
    await fake.failPush('alpha', 5, MANIFEST_REFUSED_394)
    const [result] = await publish([job])
    expect(await pushes('alpha')).toHaveLength(1)
    expect(result.error).toBe(
      `Chart alpha version 0.1.0: registry ${HOST} refused its manifest (HTTP 400; this Helm does not show the registry's reason): in ECR it means the version already exists in an immutable repository, so set "skip-existing: true" or bump the chart version; Helm 3.18 or later shows the registry's own message.`
    )
    // The step's line for it names the chart once.
    const { failureLine } = await import('../../src/publish/chart-log.js')
    expect(failureLine(result)).toBe(result.error)
  })

  it('with skip-existing, a refused manifest that turns out published meanwhile is a skip', async () => {
    const job = await chartJob('alpha', '0.1.0')
    await fake.failPush('alpha', 5, MANIFEST_REFUSED_394)
    const digest = `sha256:${'d'.repeat(64)}`
    const [result] = await publish([job], { skipExisting: true, lookupTag: async () => digest })
    expect(result).toMatchObject({ digest, pushed: false })
    expect(result.error).toBeUndefined()
  })

  it('does not retry an authorization failure and names the permissions', async () => {
    const job = await chartJob('alpha')
    await fake.failPush('alpha', 5, await unitOutput('push-unauthorized.helm-3.18.0.stderr.txt'))
    const [result] = await publish([job])
    expect(await pushes('alpha')).toHaveLength(1)
    expect(result.error).toBe(
      `Registry ${HOST} refused the push to charts/alpha (failed to perform "Push" on destination: POST "https://localhost:5000/v2/charts/mychart/blobs/uploads/": response status code 401: unauthorized: authentication required): check that the job may push there (ecr:PutImage).`
    )
  })

  it("does not retry other failures and keeps Helm's text", async () => {
    const job = await chartJob('alpha')
    await fake.failPush('alpha', 5, await unitOutput('push-strict-mode.helm-3.18.0.stderr.txt'))
    const [result] = await publish([job])
    expect(await pushes('alpha')).toHaveLength(1)
    expect(result.error).toBe(
      'helm push failed: strict mode enabled, ref basename and tag must match the chart name and version'
    )
  })

  it('fails the dependants of a failed chart without touching them; others still publish', async () => {
    const jobs = [
      await chartJob('app', '1.0.0', [1]),
      await chartJob('lib'),
      await chartJob('other'),
      await chartJob('top', '1.0.0', [0])
    ]
    await fake.failPush('lib', 1, await unitOutput('push-missing-repository.helm-4.1.4.stderr.txt'))
    const results = await publish(jobs)
    expect(results.map(r => [r.chart, r.pushed, r.error])).toEqual([
      ['app', false, 'not published because its dependency lib failed'],
      ['lib', false, expect.stringMatching(/^Repository "charts\/lib" does not exist/)],
      ['other', true, undefined],
      ['top', false, 'not published because its dependency app failed']
    ])
    const log = await fake.log()
    expect(log.some(line => / (app|top)$/.test(line))).toBe(false)
  })

  it('fails a chart with a link out of the workspace before Helm or the registry meets it; the others publish', async () => {
    const jobs = [await chartJob('leaky'), await chartJob('clean')]
    const outside = path.join(tmp, 'credentials')
    await fs.writeFile(outside, 'aws_secret_access_key = x\n')
    await fs.symlink(outside, path.join(ws, 'charts', 'leaky', 'NOTES.txt'))
    const ensured: string[] = []
    const results = await publish(jobs, {
      skipExisting: true,
      repositoryReady: async job => {
        ensured.push(job.meta.name)
      }
    })
    expect(results.map(r => [r.chart, r.pushed, r.error])).toEqual([
      [
        'leaky',
        false,
        `Chart "charts/leaky" file NOTES.txt is a symbolic link to ${await fs.realpath(outside)}, outside the workspace (${await fs.realpath(ws)}): nothing outside the workspace is published; copy the file into the workspace or remove the link.`
      ],
      ['clean', true, undefined]
    ])
    expect((await fake.log()).filter(line => line.endsWith(' leaky'))).toEqual([])
    // No repository was created or looked up for it.
    expect(ensured).not.toContain('leaky')
  })

  it("skips a version that holds this run's own package (digest-first): no pull, no push", async () => {
    const existing = fakeDigest('alpha', '1.0.0')
    const jobs = [await chartJob('alpha'), await chartJob('beta')]
    const results = await publish(jobs, { existing: new Map([[0, existing]]) })
    expect(results[0]).toEqual({
      chart: 'alpha',
      version: '1.0.0',
      ref: `oci://${HOST}/charts/alpha:1.0.0`,
      digest: existing,
      repository: `oci://${HOST}/charts`,
      registry: HOST,
      pushed: false,
      signed: false
    })
    expect(results[1]).toMatchObject({ chart: 'beta', pushed: true })
    const argv = (await fake.calls()).map(c => c.argv)
    expect(argv.filter(a => a[0] === 'pull')).toEqual([])
    // Its only push went to the in-process registry, for the digest.
    expect(argv.filter(a => a[0] === 'push' && a[1].includes('alpha')).map(a => a[2])).toEqual([
      expect.stringMatching(/^oci:\/\/127\.0\.0\.1:\d+\/charts$/)
    ])
    expect(core.info).toHaveBeenCalledWith(
      `oci://${HOST}/charts/alpha:1.0.0 already exists (${existing}), the digest of this run's package; skipped because skip-existing is set`
    )
    expect(core.startGroup).toHaveBeenCalledWith(
      expect.stringMatching(/^alpha 1\.0\.0 \(charts\/alpha\) skipped in /)
    )
  })

  it("hands each result holding this run's own package to afterPublish, in its group, before dependants start", async () => {
    const existing = fakeDigest('alpha', '1.0.0')
    const jobs = [
      await chartJob('alpha'),
      await chartJob('beta', '1.0.0', [0]),
      await chartJob('gamma')
    ]
    const seen: string[] = []
    const results = await publish(jobs, {
      existing: new Map([[0, existing]]),
      afterPublish: async (result, log) => {
        seen.push(result.chart)
        log(`after ${result.chart}`)
        return result.chart === 'gamma'
          ? { ...result, error: 'attestation failed' }
          : { ...result, attestation: { digest: `sha256:${'a'.repeat(64)}` } }
      }
    })
    expect(seen.indexOf('alpha')).toBeLessThan(seen.indexOf('beta'))
    expect(results.map(r => [r.chart, r.pushed, r.attestation?.digest, r.error])).toEqual([
      ['alpha', false, `sha256:${'a'.repeat(64)}`, undefined],
      ['beta', true, `sha256:${'a'.repeat(64)}`, undefined],
      ['gamma', true, undefined, 'attestation failed']
    ])
    expect(core.info).toHaveBeenCalledWith('after gamma')
    expect(core.startGroup).toHaveBeenCalledWith(
      expect.stringMatching(/^gamma 1\.0\.0 \(charts\/gamma\) pushed, then failed in /)
    )
  })

  it('a dependency pushed but not attested does not hold its dependants back', async () => {
    const jobs = [await chartJob('base'), await chartJob('app', '1.0.0', [0])]
    const results = await publish(jobs, {
      afterPublish: async result =>
        result.chart === 'base' ? { ...result, error: 'attestation failed' } : result
    })
    expect(results.map(r => [r.chart, r.pushed, r.error])).toEqual([
      ['base', true, 'attestation failed'],
      ['app', true, undefined]
    ])
  })

  it('with skip-existing, an immutable tag published meanwhile (race) with the same content is pulled, compared and skipped', async () => {
    const job = await chartJob('alpha', '0.1.0')
    const raced = `sha256:${'c'.repeat(64)}`
    await fake.failPush('alpha', 5, await unitOutput('push-immutable.helm-4.1.4.stderr.txt'))
    const lookupExisting = vi.fn(async () => raced)
    const [result] = await publish([job], { skipExisting: true, lookupTag: lookupExisting })
    expect(lookupExisting).toHaveBeenCalledWith(job)
    expect(result).toMatchObject({ chart: 'alpha', digest: raced, pushed: false })
    expect(result.error).toBeUndefined()
    expect(await pushes('alpha')).toHaveLength(1)
    expect(core.info).toHaveBeenCalledWith(
      `oci://${HOST}/charts/alpha:0.1.0 was published meanwhile (${raced})`
    )
    expect(core.info).toHaveBeenCalledWith(
      `oci://${HOST}/charts/alpha:0.1.0 already exists with the same content (${raced}) in another packaging; skipped because skip-existing is set`
    )
  })

  it("with skip-existing, a tag published meanwhile with this run's package is skipped without a pull, and attested", async () => {
    const job = await chartJob('alpha', '0.1.0')
    await fake.failPush('alpha', 5, await unitOutput('push-immutable.helm-4.1.4.stderr.txt'))
    const afterPublish = vi.fn(async (r: import('../../src/model.js').ChartResult) => r)
    const own = fakeDigest('alpha', '0.1.0')
    const [result] = await publish([job], {
      skipExisting: true,
      lookupTag: async () => own,
      afterPublish
    })
    expect(result).toMatchObject({ digest: own, pushed: false })
    expect(result.error).toBeUndefined()
    expect(afterPublish).toHaveBeenCalledTimes(1)
    expect((await fake.calls()).some(c => c.argv[0] === 'pull')).toBe(false)
  })

  it('with skip-existing, a version published meanwhile with other content fails naming the files (never a skip)', async () => {
    const job = await chartJob('alpha', '0.1.0')
    const raced = `sha256:${'c'.repeat(64)}`
    await fake.failPush('alpha', 5, await unitOutput('push-immutable.helm-4.1.4.stderr.txt'))
    await fake.publishedValues('alpha', 'replicas: 3\n')
    const [result] = await publish([job], { skipExisting: true, lookupTag: async () => raced })
    expect(result).toMatchObject({ pushed: false })
    expect(result.error).toBe(
      `Chart alpha version 0.1.0 is already published (oci://${HOST}/charts/alpha:0.1.0) with different content (values.yaml removed): bump the chart version to publish this change.`
    )
  })

  it('with skip-existing, still fails on an immutable tag the lookup cannot find', async () => {
    const job = await chartJob('alpha', '0.1.0')
    await fake.failPush('alpha', 5, await unitOutput('push-immutable.helm-4.1.4.stderr.txt'))
    for (const lookupExisting of [
      vi.fn(async () => undefined),
      vi.fn(async () => Promise.reject(new Error('x')))
    ]) {
      const [result] = await publish([job], { skipExisting: true, lookupTag: lookupExisting })
      expect(lookupExisting).toHaveBeenCalledTimes(1)
      expect(result.error).toMatch(
        /^Chart alpha version 0\.1\.0 already exists in .* and its tags are immutable/
      )
    }
  })

  it('does not look up again for other push failures', async () => {
    const job = await chartJob('alpha')
    await fake.failPush(
      'alpha',
      5,
      await unitOutput('push-missing-repository.helm-4.1.4.stderr.txt')
    )
    const lookupExisting = vi.fn(async () => `sha256:${'c'.repeat(64)}`)
    const [result] = await publish([job], { skipExisting: true, lookupTag: lookupExisting })
    expect(lookupExisting).not.toHaveBeenCalled()
    expect(result.error).toMatch(/^Repository "charts\/alpha" does not exist/)
  })

  it('lets a dependant go ahead when its dependency was skipped as existing', async () => {
    const jobs = [await chartJob('app', '1.0.0', [1]), await chartJob('lib')]
    const results = await publish(jobs, { existing: new Map([[1, fakeDigest('lib', '1.0.0')]]) })
    expect(results.map(r => [r.chart, r.pushed, r.error])).toEqual([
      ['app', true, undefined],
      ['lib', false, undefined]
    ])
  })
})

describe('publishCharts with skip-existing and a failed dependency', () => {
  it('still reports an already published dependant as skipped', async () => {
    const base = await chartJob('base')
    const top = await chartJob('top', '1.0.0', [0])
    await fake.failPush('base', 5, 'Error: something unrecoverable')
    const digest = `sha256:${'b'.repeat(64)}`
    const [baseResult, topResult] = await publish([base, top], { existing: new Map([[1, digest]]) })
    expect(baseResult.error).toBeTruthy()
    expect(topResult).toMatchObject({ pushed: false, digest })
    expect(topResult.error).toBeUndefined()
  })
})

describe('publishCharts with a registry login in flight', () => {
  it('packages while the login runs and pushes only after it', async () => {
    const job = await chartJob('early')
    const order: string[] = []
    let release: () => void = () => {}
    const loginReady = new Promise<void>(resolve => {
      release = () => {
        order.push('login done')
        resolve()
      }
    })
    // The login completes only once packaging has finished: a publisher that waited for the
    // login before packaging would never finish.
    class Watched extends Helm {
      async package(...args: Parameters<InstanceType<typeof Helm>['package']>) {
        order.push('package')
        const archive = await super.package(...args)
        release()
        return archive
      }
      async push(...args: Parameters<InstanceType<typeof Helm>['push']>) {
        order.push('push')
        return super.push(...args)
      }
    }
    helm = new Watched({ path: fake.path, version: 'v3.18.0', env: fake.env })
    const [result] = await publish([job], { loginReady })
    expect(result.pushed).toBe(true)
    expect(order).toEqual(['package', 'login done', 'push'])
  })

  it('makes repositories ready while the login runs, not after it', async () => {
    const job = await chartJob('created')
    let release: () => void = () => {}
    const loginReady = new Promise<void>(resolve => (release = resolve))
    // The login completes only once the repository is asked for: waiting for the login before
    // creating repositories would never finish.
    const [result] = await publish([job], {
      loginReady,
      repositoryReady: async () => release()
    })
    expect(result.pushed).toBe(true)
  })

  it('pushes nothing and logs no chart group when the login fails', async () => {
    const job = await chartJob('never')
    const [result] = await publish([job], { loginReady: Promise.reject(new Error('login failed')) })
    expect(result.pushed).toBe(false)
    expect(result.error).toBeTruthy()
    expect(await pushes('never')).toEqual([])
    expect(core.startGroup).not.toHaveBeenCalled()
    expect(core.info).not.toHaveBeenCalled()
  })
})

describe('publishCharts after a late transient failure', () => {
  it('reports its own version as pushed when a retry meets the tag an earlier attempt set', async () => {
    const job = await chartJob('late', '0.1.0')
    const digest = fakeDigest('late', '0.1.0') // this run's package
    await fake.failPushThen(
      'late',
      await unitOutput('push-503.helm-3.18.0.stderr.txt'),
      5,
      await unitOutput('push-immutable.helm-4.1.4.stderr.txt')
    )
    const lookupTag = vi.fn(async () => digest)
    const [result] = await publish([job], { lookupTag })
    expect(result).toMatchObject({ digest, pushed: true })
    expect(result.error).toBeUndefined()
    expect(lookupTag).toHaveBeenCalledTimes(1)
    expect(await pushes('late')).toHaveLength(2)
  })

  it('a retry that meets a tag holding another digest fails as an existing immutable version (not "pushed")', async () => {
    const job = await chartJob('late', '0.1.0')
    await fake.failPushThen(
      'late',
      await unitOutput('push-503.helm-3.18.0.stderr.txt'),
      5,
      await unitOutput('push-immutable.helm-4.1.4.stderr.txt')
    )
    const [result] = await publish([job], { lookupTag: async () => `sha256:${'d'.repeat(64)}` })
    expect(result.pushed).toBe(false)
    expect(result.error).toMatch(/^Chart late version 0\.1\.0 already exists in .* immutable/)
  })

  it('without an earlier late failure, an immutable conflict is not looked up', async () => {
    const job = await chartJob('conflict', '0.1.0')
    await fake.failPush('conflict', 5, await unitOutput('push-immutable.helm-4.1.4.stderr.txt'))
    const lookupTag = vi.fn(async () => `sha256:${'e'.repeat(64)}`)
    const [result] = await publish([job], { lookupTag })
    expect(lookupTag).not.toHaveBeenCalled()
    expect(result.error).toMatch(/already exists/)
  })

  it('reports a registry that keeps failing after the retries', async () => {
    const job = await chartJob('down', '0.1.0')
    await fake.failPush('down', 5, await unitOutput('push-503.helm-3.18.0.stderr.txt'))
    const [result] = await publish([job], { retry: { retries: 0, minTimeoutMs: 5, factor: 2 } })
    expect(result.error).toMatch(/kept failing the push of charts\/down after 1 attempts/)
  })

  it('fails a chart whose repository could not be created, and only that chart', async () => {
    const jobs = [await chartJob('good'), await chartJob('bad')]
    const results = await publish(jobs, {
      repositoryReady: async job => {
        if (job.meta.name === 'bad') throw new Error('AWS denied ecr:CreateRepository')
      }
    })
    expect(results[0]).toMatchObject({ chart: 'good', pushed: true })
    expect(results[1]).toMatchObject({ chart: 'bad', pushed: false })
    expect(results[1].error).toContain('AWS denied ecr:CreateRepository')
    expect(await pushes('bad')).toEqual([])
  })

  it('fails a chart with a preflight error without touching Helm', async () => {
    const [result] = await publish([await chartJob('pre')], {
      preflightErrors: new Map([[0, 'ecr:DescribeImages denied']])
    })
    expect(result.error).toBe('ecr:DescribeImages denied')
    expect(await fake.calls()).toEqual([])
  })
})

describe('publishCharts: reproducible archives, content-aware skip-existing, dry run (issue 11)', () => {
  const localRemote = /^oci:\/\/127\.0\.0\.1:\d+\/charts$/
  const dry = (registryChecked: boolean) => ({ registryChecked })
  const calls = async (command: string) =>
    (await fake.calls()).map(c => c.argv).filter(argv => argv[0] === command)

  it('skip-existing with the same content: pulls, compares, skips with the published digest', async () => {
    const job = await chartJob('same')
    const existing = `sha256:${'a'.repeat(64)}`
    const [result] = await run([job], { existing: new Map([[0, existing]]) }).results
    expect(result).toMatchObject({ digest: existing, pushed: false })
    expect(result.error).toBeUndefined()
    expect(await pushes()).toEqual([])
    expect((await calls('pull'))[0].slice(0, 4)).toEqual([
      'pull',
      `oci://${HOST}/charts/same`,
      '--version',
      '1.0.0'
    ])
  })

  it('skip-existing: a published dependant of a failed dependency is skipped without packaging it', async () => {
    const base = await chartJob('base')
    const top = await chartJob('top', '1.0.0', [0])
    await fake.failPush('base', 5, 'Error: something unrecoverable')
    const digest = `sha256:${'c'.repeat(64)}`
    const [baseResult, topResult] = await run([base, top], { existing: new Map([[1, digest]]) })
      .results
    expect(baseResult.error).toBeTruthy()
    expect(topResult).toMatchObject({ pushed: false, digest })
    expect(topResult.error).toBeUndefined()
    expect((await calls('package')).some(argv => argv[1] === top.source.path)).toBe(false)
    expect(core.info).toHaveBeenCalledWith(
      `oci://${HOST}/charts/top:1.0.0 already exists (${digest}); skipped without comparing its content, because its dependency base failed`
    )
  })

  it('skip-existing with other content: one line naming the chart, version and files', async () => {
    const job = await chartJob('changed')
    await fake.publishedValues('changed', 'replicas: 3\n')
    const [result] = await run([job], { existing: new Map([[0, `sha256:${'b'.repeat(64)}`]]) })
      .results
    expect(result.error).toBe(
      `Chart changed version 1.0.0 is already published (oci://${HOST}/charts/changed:1.0.0) with different content (values.yaml removed): bump the chart version to publish this change.`
    )
    expect(await pushes()).toEqual([])
  })

  it('dry run: lints, pushes only to the local registry, creates nothing, reports "would push"', async () => {
    const job = await chartJob('dry')
    await fake.lintOutput(
      'dry',
      0,
      '[WARNING] templates/ing.yaml: extensions/v1beta1 Ingress is deprecated in v1.14+'
    )
    const { results, ensured } = run([job], {
      dryRun: dry(true)
    })
    const [result] = await results
    expect(result).toMatchObject({
      pushed: false,
      outcome: 'would push',
      digest: fakeDigest('dry', '1.0.0')
    })
    expect((await calls('push')).map(argv => argv.slice(2))).toEqual([
      [expect.stringMatching(localRemote), '--plain-http']
    ])
    expect(ensured).toEqual([])
    expect(core.warning).toHaveBeenCalledWith(
      'helm lint: extensions/v1beta1 Ingress is deprecated in v1.14+',
      { title: 'dry 1.0.0', file: 'charts/dry/templates/ing.yaml' }
    )
  })

  it('dry run: a lint error fails the chart in one line with the file and line', async () => {
    const job = await chartJob('broken')
    await fake.lintOutput(
      'broken',
      1,
      '[ERROR] templates/: template: broken/templates/cm.yaml:4:18: executing "broken/templates/cm.yaml" at <.Values.x.y>: nil pointer\n\nError: 1 chart(s) linted, 1 chart(s) failed'
    )
    const [result] = await run([job], {
      dryRun: dry(false)
    }).results
    expect(result.error).toMatch(
      /^Chart broken 1\.0\.0 fails helm lint: charts\/broken\/templates\/cm\.yaml:4: executing .* nil pointer: fix the chart/
    )
    expect((await pushes()).filter(argv => !localRemote.test(argv[2]))).toEqual([])
  })

  it('dry run: the same digest needs no pull; another digest with the same content is pulled and compared', async () => {
    const same = await chartJob('pinned')
    const older = await chartJob('older')
    const otherDigest = `sha256:${'c'.repeat(64)}`
    const results = await run([same, older], {
      existing: new Map([
        [0, fakeDigest('pinned', '1.0.0')],
        [1, otherDigest]
      ]),
      dryRun: dry(true)
    }).results
    expect(results.map(r => [r.outcome, r.digest])).toEqual([
      ['already published with the same content', fakeDigest('pinned', '1.0.0')],
      ['already published with the same content', otherDigest]
    ])
    expect((await calls('pull')).map(argv => argv[1])).toEqual([`oci://${HOST}/charts/older`])
  })

  it("dry run: the log says what a real run does with a version that holds this run's digest", async () => {
    const job = await chartJob('same')
    const existing = new Map([[0, fakeDigest('same', '1.0.0')]])
    await run([job], { existing, dryRun: dry(true), skipExisting: true }).results
    expect(core.info).toHaveBeenCalledWith(expect.stringMatching(/; a real run skips it$/))
    vi.mocked(core.info).mockClear()
    await run([job], { existing, dryRun: dry(true), skipExisting: false }).results
    expect(core.info).toHaveBeenCalledWith(
      expect.stringMatching(/; a real run pushes it again \(skip-existing is off\)$/)
    )
  })

  it('dry run: a published version with other content fails the chart', async () => {
    const job = await chartJob('drift')
    await fake.publishedValues('drift', 'a: 1\n')
    const [result] = await run([job], {
      existing: new Map([[0, `sha256:${'d'.repeat(64)}`]]),
      dryRun: dry(true)
    }).results
    expect(result.error).toMatch(
      /^Chart drift version 1\.0\.0 is already published .*values\.yaml removed/
    )
  })
})

describe('lintInBatches', () => {
  it('the first lint runs at once; lints asked meanwhile share the next Helm process', async () => {
    const archives = await Promise.all(
      ['a', 'b', 'c'].map(async name => {
        const file = path.join(workDir(), `${name}-1.0.0.tgz`)
        await fs.writeFile(file, `${name} 1.0.0\n`)
        return file
      })
    )
    await fake.lintOutput('c', 1, '[ERROR] Chart.yaml: version is required')
    const lint = lintInBatches(helm)
    const results = await Promise.all(archives.map(a => lint(a)))
    const lints = (await fake.calls()).map(c => c.argv).filter(argv => argv[0] === 'lint')
    expect(lints.map(argv => argv.length - 1).sort()).toEqual([1, 2])
    expect(results.map(r => r.findings.map(f => `${f.severity} ${f.file}`))).toEqual([
      ['info Chart.yaml'],
      ['info Chart.yaml'],
      ['error Chart.yaml']
    ])
  })
})

describe('publishCharts: own problems, attestation of own digests only, the log', () => {
  it('a chart with its own problem fails in its line; its dependant fails; the others publish', async () => {
    const bad = await chartJob('bad')
    bad.problem =
      'charts/bad/Chart.yaml version "1.2" is not SemVer 2: fix Chart.yaml or set the "version" input.'
    const jobs = [bad, await chartJob('top', '1.0.0', [0]), await chartJob('ok')]
    const results = await publish(jobs)
    expect(results[0].file).toBe('charts/bad/Chart.yaml')
    expect(results.map(r => [r.chart, r.pushed, r.error])).toEqual([
      ['bad', false, bad.problem],
      ['top', false, 'not published because its dependency bad failed'],
      ['ok', true, undefined]
    ])
    expect((await fake.log()).filter(line => /(bad|top)$/.test(line))).toEqual([])
  })

  it('with attest, a version skipped for the same content under another digest is not attested', async () => {
    const job = await chartJob('older')
    const other = `sha256:${'f'.repeat(64)}`
    const afterPublish = vi.fn(async (r: import('../../src/model.js').ChartResult) => r)
    const [result] = await publish([job], { existing: new Map([[0, other]]), afterPublish })
    expect(result).toMatchObject({ digest: other, pushed: false })
    expect(result.error).toBeUndefined()
    expect(afterPublish).not.toHaveBeenCalled()
    expect(core.info).toHaveBeenCalledWith(
      expect.stringContaining("not attested: its digest is not this run's package")
    )
  })

  it('a dry-run lint error is an ::error annotation on the file and line', async () => {
    const job = await chartJob('broken')
    await fake.lintOutput(
      'broken',
      1,
      '[ERROR] templates/: template: broken/templates/cm.yaml:4:18: executing "broken/templates/cm.yaml" at <.Values.x.y>: nil pointer\n\nError: 1 chart(s) linted, 1 chart(s) failed'
    )
    const [result] = await publish([job], { dryRun: { registryChecked: false } })
    expect(result.error).toMatch(/fails helm lint/)
    expect(result).toMatchObject({ file: 'charts/broken/templates/cm.yaml', line: 4 })
  })

  it('says how long a chart waited for its dependency, and what its package holds', async () => {
    fake.env.HELM_FAKE_PUSH_SLEEP = '0.3'
    await publish([await chartJob('app', '1.0.0', [1]), await chartJob('lib')])
    expect(core.startGroup).toHaveBeenCalledWith(
      expect.stringMatching(
        /^app 1\.0\.0 \(charts\/app\) pushed in \d+\.\d s, waited \d+\.\d s for lib$/
      )
    )
    expect(core.info).toHaveBeenCalledWith(
      expect.stringMatching(/^Packaged lib-1\.0\.0\.tgz \(\d+ B, 2 files\)$/)
    )
  })
})

describe('closingLine and failureLine', async () => {
  const { closingLine, failureLine } = await import('../../src/publish/chart-log.js')
  const r = (over: Partial<import('../../src/model.js').ChartResult>) => ({
    chart: 'c',
    version: '1.0.0',
    ref: '',
    digest: '',
    repository: '',
    registry: '',
    pushed: false,
    ...over
  })
  it.each([
    [[r({ pushed: true }), r({ pushed: true })], false, '2 pushed, 0 skipped, 0 failed in 1.4 s'],
    [
      [r({}), r({ error: 'x' }), r({ pushed: true, error: 'attest' })],
      false,
      '0 pushed, 1 skipped, 2 failed in 1.4 s'
    ],
    [
      [r({ outcome: 'would push' }), r({ outcome: 'already published with the same content' })],
      true,
      '1 would push, 1 already published, 0 failed in 1.4 s'
    ]
  ])('%#', (results, dryRun, line) => {
    expect(closingLine(results, 1400, dryRun)).toBe(line)
  })
  it.each([
    [
      r({
        chart: 'el-platform',
        version: '0.1.0',
        error: 'Chart el-platform version 0.1.0 is already published …'
      }),
      'Chart el-platform version 0.1.0 is already published …'
    ],
    [r({ chart: 'b', error: 'helm push failed: x' }), 'Chart b 1.0.0: helm push failed: x'],
    [
      r({ chart: 'bad', version: '', error: 'bad/Chart.yaml version "1.2" is not SemVer 2' }),
      'bad/Chart.yaml version "1.2" is not SemVer 2'
    ]
  ])('%#', (result, line) => {
    expect(failureLine(result)).toBe(line)
  })
})

describe('publishCharts: the login with skip-existing', () => {
  it("a re-run where every version holds this run's package never logs in", async () => {
    const jobs = [await chartJob('a'), await chartJob('b')]
    const { results, logins } = run(jobs, {
      eagerLogin: false,
      existing: new Map([
        [0, fakeDigest('a', '1.0.0')],
        [1, fakeDigest('b', '1.0.0')]
      ])
    })
    expect((await results).map(r => [r.pushed, r.error])).toEqual([
      [false, undefined],
      [false, undefined]
    ])
    expect(logins()).toBe(0)
  })

  it('logs in once a chart is going to be pushed, before it packages', async () => {
    let release = (): void => {}
    const loginReady = new Promise<void>(resolve => (release = resolve))
    const jobs = [await chartJob('new'), await chartJob('old')]
    const { results, logins } = run(jobs, {
      eagerLogin: false,
      loginReady,
      existing: new Map([[1, fakeDigest('old', '1.0.0')]])
    })
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(logins()).toBe(1) // started for "new" while it packages
    expect(await pushes()).toEqual([])
    release()
    expect((await results).map(r => r.pushed)).toEqual([true, false])
  })
})
