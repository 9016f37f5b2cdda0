/**
 * Issue 11: reproducible charts, content-aware skip-existing and the dry run, with the bundled
 * action against real Helm 3.9.4, 3.18.0 and 4.1.4 and the ECR emulator.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { request } from '../../testbed/net-util.js'
import { makeTempDir } from '../../testbed/paths.js'
import { cloneOf, COMMIT_TIME, git, originWith } from '../../testbed/git-origin.js'
import { annotations, errorLines, runAction } from '../../testbed/runner.js'
import { createRepository, describeTag, runOnHelm, servedDigest } from '../../testbed/scenario.js'
import { makeChart, startStack, type Stack } from '../../testbed/stack.js'

let stack: Stack
beforeAll(async () => {
  stack = await startStack({ tlsRegistry: true })
})
afterAll(async () => {
  await stack?.stop()
})

/** The manifest the registry behind the emulator serves. */
async function servedManifest(repo: string, tag: string): Promise<Record<string, unknown>> {
  const res = await request(`${stack.registry.url}/v2/${repo}/manifests/${tag}`, {
    headers: {
      authorization: stack.registry.authorization,
      accept: 'application/vnd.oci.image.manifest.v1+json'
    }
  })
  return JSON.parse(res.body.toString()) as Record<string, unknown>
}

const writes = (from: number) =>
  stack.ecr.registryRequests
    .slice(from)
    .filter(r => ['PUT', 'POST', 'PATCH', 'DELETE'].includes(r.method))

describe.each(ALL_HELM_VERSIONS)('Helm %s', helmVersion => {
  const short = helmVersion.replace(/\./g, '')
  const run = runOnHelm(() => stack, helmVersion, beforeAll)

  it('two clones of one commit, a year apart in mtimes, publish the same digest to two repositories', async () => {
    const chart = `repro-${short}`
    const origin = await originWith(chart)
    const first = await cloneOf(origin, new Date('2024-01-01T00:00:00Z'))
    const second = await cloneOf(origin, new Date('2025-06-30T12:34:56Z'))
    const a = await run(first, {
      charts: `charts/${chart}`,
      namespace: 'one',
      'create-repository': 'true'
    })
    const b = await run(second, {
      charts: `charts/${chart}`,
      namespace: 'two',
      'create-repository': 'true'
    })
    expect(errorLines(a.stdout)).toEqual([])
    expect(errorLines(b.stdout)).toEqual([])
    expect(a.outputs.pushed).toBe('true')
    expect(b.outputs.pushed).toBe('true')
    expect(a.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(b.outputs.digest).toBe(a.outputs.digest)
    expect(await servedDigest(stack, `two/${chart}`, '0.1.0')).toBe(a.outputs.digest)
    expect(a.stdout).toContain('entries stamped 2023-11-14T22:13:20.000Z (commit time)')
    const manifest = await servedManifest(`one/${chart}`, '0.1.0')
    if (helmVersion !== '3.9.4') {
      // Helm 3.15+ take "created" from the archive's mtime: the commit time, not the run's time.
      expect(manifest.annotations).toMatchObject({
        'org.opencontainers.image.created': '2023-11-14T22:13:20Z'
      })
    }
    // The workspace is untouched: the clone's files keep their mtimes and git sees no change.
    expect(git(first, 'status', '--porcelain')).toBe('')
  })

  it('dry run: lints, reports the exact digest, writes nothing; the real run pushes that digest', async () => {
    const chart = `dry-${short}`
    const origin = await originWith(chart, async dir => {
      // A deprecated API: helm lint warns, which must become an annotation on this file.
      await writeFile(
        path.join(dir, 'templates', 'ingress.yaml'),
        'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: {{ .Release.Name }}\nspec: {}\n'
      )
    })
    const workspace = await cloneOf(origin, new Date())
    const inputs = {
      charts: `charts/${chart}`,
      namespace: 'dry',
      'create-repository': 'true',
      'image-tag-mutability': 'IMMUTABLE'
    }
    const apiBefore = stack.ecr.apiCalls.length
    const requestsBefore = stack.ecr.registryRequests.length
    const dry = await run(workspace, { ...inputs, 'dry-run': 'true' })
    expect(errorLines(dry.stdout)).toEqual([])
    expect(dry.exitCode).toBe(0)
    expect(stack.ecr.apiCalls.slice(apiBefore).map(c => c.op)).not.toContain('CreateRepository')
    expect(writes(requestsBefore)).toEqual([])
    expect(dry.outputs.pushed).toBe('false')
    expect(JSON.parse(dry.outputs.charts)).toEqual([
      expect.objectContaining({
        chart,
        pushed: false,
        outcome: 'would push',
        digest: dry.outputs.digest
      })
    ])
    const warnings = annotations(dry.stdout, 'warning')
    expect(warnings).toEqual(
      expect.arrayContaining([expect.stringContaining('extensions/v1beta1 Ingress is deprecated')])
    )
    expect(dry.stdout).toMatch(
      new RegExp(
        `::warning title=${chart} 0\\.1\\.0,file=charts/${chart}/templates/ingress\\.yaml::helm lint`
      )
    )
    expect(dry.summary).toContain('Dry run')
    expect(dry.summary).toContain('would push')

    const real = await run(workspace, inputs)
    expect(errorLines(real.stdout)).toEqual([])
    expect(real.outputs.pushed).toBe('true')
    expect(real.outputs.digest).toBe(dry.outputs.digest)

    const again = await run(workspace, { ...inputs, 'dry-run': 'true' })
    expect(again.exitCode).toBe(0)
    expect(JSON.parse(again.outputs.charts)[0]).toMatchObject({
      outcome: 'already published with the same content',
      digest: real.outputs.digest
    })
  })
})

describe('content-aware skip-existing on an IMMUTABLE repository (Helm 4.1.4)', () => {
  const helmVersion = '4.1.4'
  it('same content is skipped with the original digest; changed values.yaml fails naming it', async () => {
    const chart = 'content-aware'
    await createRepository(stack, `imm/${chart}`, 'IMMUTABLE')
    const origin = await originWith(chart)
    const toolCache = await makeTempDir('tc-ca')
    const run = (workspace: string, inputs: Record<string, string> = {}) =>
      runAction({
        workspace,
        toolCache,
        env: stack.actionEnv,
        inputs: {
          'helm-version': helmVersion,
          'helm-download-url': stack.mirror.url,
          charts: `charts/${chart}`,
          namespace: 'imm',
          'skip-existing': 'true',
          ...inputs
        }
      })
    const first = await run(await cloneOf(origin, new Date('2024-01-01T00:00:00Z')))
    expect(first.outputs.pushed).toBe('true')
    const original = first.outputs.digest

    // Same commit, other mtimes, and another SOURCE_DATE_EPOCH: other bytes, same content.
    const rerun = await runAction({
      workspace: await cloneOf(origin, new Date()),
      toolCache,
      env: { ...stack.actionEnv, SOURCE_DATE_EPOCH: '1234567890' },
      inputs: {
        'helm-version': helmVersion,
        'helm-download-url': stack.mirror.url,
        charts: `charts/${chart}`,
        namespace: 'imm',
        'skip-existing': 'true'
      }
    })
    expect(errorLines(rerun.stdout)).toEqual([])
    expect(rerun.outputs).toMatchObject({ pushed: 'false', digest: original })
    expect(rerun.stdout).toContain('already exists with the same content')

    const changed = await cloneOf(origin, new Date())
    await writeFile(path.join(changed, 'charts', chart, 'values.yaml'), 'greeting: changed\n')
    const requestsBefore = stack.ecr.registryRequests.length
    const failed = await run(changed)
    expect(failed.exitCode).toBe(1)
    const errors = errorLines(failed.stdout)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toContain(`Chart ${chart} version 0.1.0 is already published`)
    expect(errors[0]).toContain('values.yaml changed')
    expect(errors[0]).toContain('bump the chart version')
    expect(writes(requestsBefore)).toEqual([])
    expect(await servedDigest(stack, `imm/${chart}`, '0.1.0')).toBe(original)
    expect(await describeTag(stack, `imm/${chart}`, '0.1.0')).toBe(original)

    // A dry run of the changed chart says so too (and fails), still writing nothing.
    const dry = await run(changed, { 'dry-run': 'true' })
    expect(dry.exitCode).toBe(1)
    expect(errorLines(dry.stdout)).toEqual([expect.stringContaining('values.yaml changed')])
    expect(writes(requestsBefore)).toEqual([])
  })
})

describe('dry run without credentials (a pull request from a fork)', () => {
  it('lints and packages, reports the digest, notes the registry was not checked, exits 0', async () => {
    const workspace = await makeTempDir('fork')
    await mkdir(path.join(workspace, 'charts'), { recursive: true })
    await makeChart(path.join(workspace, 'charts', 'forked'), { name: 'forked', version: '0.2.0' })
    const env = { ...stack.actionEnv }
    delete env.AWS_ACCESS_KEY_ID
    delete env.AWS_SECRET_ACCESS_KEY
    const apiBefore = stack.ecr.apiCalls.length
    const requestsBefore = stack.ecr.registryRequests.length
    const result = await runAction({
      workspace,
      env: { ...env, SOURCE_DATE_EPOCH: String(COMMIT_TIME) },
      inputs: {
        'helm-version': '4.1.4',
        'helm-download-url': stack.mirror.url,
        charts: 'charts/forked',
        'create-repository': 'true',
        'dry-run': 'true'
      }
    })
    expect(errorLines(result.stdout)).toEqual([])
    expect(result.exitCode).toBe(0)
    const notices = annotations(result.stdout, 'notice')
    expect(notices).toHaveLength(1)
    expect(notices[0]).toMatch(/^Dry run without registry credentials/)
    expect(result.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(JSON.parse(result.outputs.charts)[0]).toMatchObject({
      chart: 'forked',
      pushed: false,
      outcome: 'would push'
    })
    expect(result.summary).toContain('The registry was not checked')
    expect(stack.ecr.apiCalls.length).toBe(apiBefore) // no AWS call got through
    expect(stack.ecr.registryRequests.length).toBe(requestsBefore)
    // A lint error still fails the chart.
    await writeFile(
      path.join(workspace, 'charts', 'forked', 'templates', 'bad.yaml'),
      'kind: ConfigMap\nmetadata:\n  name: {{ .Values.missing.field }}\n'
    )
    const broken = await runAction({
      workspace,
      env,
      inputs: {
        'helm-version': '4.1.4',
        'helm-download-url': stack.mirror.url,
        charts: 'charts/forked',
        'dry-run': 'true'
      }
    })
    expect(broken.exitCode).toBe(1)
    expect(errorLines(broken.stdout)).toEqual([
      expect.stringMatching(
        /^Chart forked 0\.2\.0 fails helm lint: charts\/forked\/templates\/bad\.yaml:3: /
      )
    ])
    // The error is an annotation on the chart's own file and line.
    expect(broken.stdout).toMatch(
      /^::error file=charts\/forked\/templates\/bad\.yaml,line=3::Chart forked 0\.2\.0 fails helm lint/m
    )
    expect(
      await readFile(path.join(workspace, 'charts', 'forked', 'values.yaml'), 'utf8')
    ).toContain('hello')
  })
})

describe('dry run against an OCI registry with username/password (TLS, htpasswd; Helm 4.1.4)', () => {
  it('looks versions up through the login; its digest is the real one; without the password it checks nothing', async () => {
    const registry = stack.tlsRegistry!
    const workspace = await makeTempDir('oci-dry')
    await makeChart(path.join(workspace, 'charts', 'ocidry'), { name: 'ocidry', version: '0.3.0' })
    const toolCache = await makeTempDir('tc-oci')
    const run = (inputs: Record<string, string>) =>
      runAction({
        workspace,
        toolCache,
        env: { ...stack.actionEnv, SOURCE_DATE_EPOCH: String(COMMIT_TIME) },
        inputs: {
          'helm-version': '4.1.4',
          'helm-download-url': stack.mirror.url,
          charts: 'charts/ocidry',
          registry: registry.host,
          namespace: 'oci',
          username: registry.username,
          'ca-file': stack.certs.caFile,
          ...inputs
        }
      })
    const apiBefore = stack.ecr.apiCalls.length
    const dry = await run({ password: registry.password, 'dry-run': 'true' })
    expect(errorLines(dry.stdout)).toEqual([])
    expect(JSON.parse(dry.outputs.charts)[0]).toMatchObject({
      outcome: 'would push',
      pushed: false
    })
    const real = await run({ password: registry.password })
    expect(errorLines(real.stdout)).toEqual([])
    expect(real.outputs.pushed).toBe('true')
    expect(real.outputs.digest).toBe(dry.outputs.digest)
    const again = await run({ password: registry.password, 'dry-run': 'true' })
    expect(JSON.parse(again.outputs.charts)[0]).toMatchObject({
      outcome: 'already published with the same content',
      digest: real.outputs.digest
    })
    // A fork: the username is in the workflow, the password secret is empty.
    const fork = await run({ password: '', 'dry-run': 'true' })
    expect(errorLines(fork.stdout)).toEqual([])
    expect(fork.exitCode).toBe(0)
    expect(annotations(fork.stdout, 'notice')).toEqual([
      expect.stringMatching(/^Dry run without registry credentials/)
    ])
    expect(fork.outputs.digest).toBe(real.outputs.digest)
    expect(stack.ecr.apiCalls.length).toBe(apiBefore) // no AWS call in any of these runs
  })
})
