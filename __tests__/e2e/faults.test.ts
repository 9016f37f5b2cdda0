/**
 * Reliability: faults injected through the emulator's and the mirror's switches while the bundled
 * action runs, with the outcome asserted: transient faults are retried and the publish succeeds
 * (with the served digest equal to the reported one); permanent ones fail fast, in bounded time,
 * with one line that names the fix, and without hammering the service.
 */
import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { sha256File } from '../../testbed/helm-mirror.js'
import { helmBinary } from '../../testbed/helm-binaries.js'
import { helmCli } from '../../testbed/helm-cli.js'
import { makeTempDir } from '../../testbed/paths.js'
import { errorLines, runAction, type RunActionResult } from '../../testbed/runner.js'
import {
  createRepository,
  describeTag,
  filesBelow,
  manifestPuts,
  servedDigest,
  workspaceWith
} from '../../testbed/scenario.js'
import { startStack, type Stack } from '../../testbed/stack.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'

let stack: Stack
let toolCache: string
let workspace: string
beforeAll(async () => {
  stack = await startStack()
  toolCache = await prewarmedToolCache(Object.values(HELM_VERSIONS))
  workspace = await workspaceWith([{ name: 'sturdy', version: '1.0.0' }])
})
afterAll(async () => {
  await stack?.stop()
})
afterEach(() => {
  stack.ecr.faults.clear()
  stack.mirror.faults.clear()
})

let published = 0
/** Publishes charts/sturdy as a new version into `namespace` (the repository must exist). */
function publish(
  namespace: string,
  helmVersion: string,
  extra: { inputs?: Record<string, string>; env?: Record<string, string>; toolCache?: string } = {}
): Promise<RunActionResult> {
  published++
  return runAction({
    workspace,
    toolCache: extra.toolCache ?? toolCache,
    env: { ...stack.actionEnv, ...extra.env },
    timeoutMs: 120_000,
    inputs: {
      charts: 'charts/sturdy',
      namespace,
      version: `1.0.${published}`,
      'helm-version': helmVersion,
      'helm-download-url': stack.mirror.url,
      ...extra.inputs
    }
  })
}

/** The publish succeeded and the registry serves exactly what the action reported. */
async function expectPublished(result: RunActionResult, repository: string): Promise<void> {
  expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
  expect(result.exitCode).toBe(0)
  expect(result.outputs.pushed).toBe('true')
  const tag = result.outputs.version
  const served = await servedDigest(stack, repository, tag)
  expect(result.outputs.digest).toBe(served)
  expect(await describeTag(stack, repository, tag)).toBe(served)
}

/** The one error line of a failed run (asserting there is exactly one, and exit code 1). */
function singleError(result: RunActionResult): string {
  const errors = errorLines(result.stdout)
  expect(errors, result.stdout + result.stderr).toHaveLength(1)
  expect(result.exitCode).toBe(1)
  expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/\n\s+at .+:\d+:\d+/)
  return errors[0]
}

/**
 * How many registry requests one refused `helm registry login` of this Helm makes, measured by
 * running that Helm by hand against the same registry: "one login attempt" in the tests below
 * means exactly this many, whatever Helm's probing does inside.
 */
async function oneRefusedLogin(version: string): Promise<number> {
  const helm = await helmCli(version, { caFile: stack.certs.caFile })
  const mark = stack.ecr.registryRequests.length
  const login = await helm.login(stack.ecr.registryHost, 'AWS', 'not-the-password')
  expect(login.exitCode).not.toBe(0)
  return stack.ecr.registryRequests.length - mark
}

const apiErrors = (from: number, code: string) =>
  stack.ecr.apiCalls.slice(from).filter(c => c.error === code).length

describe('ECR API faults: the AWS SDK retries', () => {
  it('throttling of every call the action makes: retried, the publish succeeds', async () => {
    await createRepository(stack, 'throttled/sturdy')
    const mark = stack.ecr.apiCalls.length
    stack.ecr.faults.apiThrottle(2, 'GetAuthorizationToken')
    stack.ecr.faults.apiThrottle(1, 'CreateRepository')
    stack.ecr.faults.apiThrottle(1, 'DescribeImages')
    const result = await publish('throttled', HELM_VERSIONS.v4, {
      inputs: { 'create-repository': 'true', 'skip-existing': 'true' }
    })
    await expectPublished(result, 'throttled/sturdy')
    expect(apiErrors(mark, 'ThrottlingException')).toBe(4)
    const calls = stack.ecr.apiCalls.slice(mark)
    for (const op of ['GetAuthorizationToken', 'CreateRepository', 'DescribeImages']) {
      expect(calls.filter(c => c.op === op).at(-1)?.error, op).not.toBe('ThrottlingException')
    }
  })

  it('500s from the API: retried, the publish succeeds', async () => {
    await createRepository(stack, 'flaky-api/sturdy')
    const mark = stack.ecr.apiCalls.length
    stack.ecr.faults.api5xx(3, 'GetAuthorizationToken')
    stack.ecr.faults.api5xx(1, 'DescribeImages')
    const result = await publish('flaky-api', HELM_VERSIONS.v4, {
      inputs: { 'skip-existing': 'true' }
    })
    await expectPublished(result, 'flaky-api/sturdy')
    expect(apiErrors(mark, 'ServerException')).toBe(4)
  })

  it('an API that keeps failing: 5 attempts, then one line naming the call, in bounded time', async () => {
    const mark = stack.ecr.apiCalls.length
    const puts = manifestPuts(stack)
    stack.ecr.faults.api5xx(100, 'GetAuthorizationToken')
    const result = await publish('down-api', HELM_VERSIONS.v4)
    const line = singleError(result)
    expect(line).toContain('ecr:GetAuthorizationToken failed in eu-west-2: ServerException')
    expect(
      stack.ecr.apiCalls.slice(mark).filter(c => c.op === 'GetAuthorizationToken')
    ).toHaveLength(5)
    expect(result.durationMs).toBeLessThan(30_000)
    expect(manifestPuts(stack)).toBe(puts)
  })
})

describe('registry faults: pushes are retried', () => {
  it('503 on blob upload with Helm 3.9.4 (which gives up at once): the action retries the push', async () => {
    await createRepository(stack, 'blob503-39/sturdy')
    stack.ecr.faults.blobUpload503(1)
    const result = await publish('blob503-39', HELM_VERSIONS.v3_9)
    await expectPublished(result, 'blob503-39/sturdy')
    expect(result.stdout).toMatch(/Push attempt 1 failed \(.*503.*\); retrying/)
  })

  it('503s on blob upload with Helm 4.1.4: absorbed (ORAS retries each request)', async () => {
    await createRepository(stack, 'blob503-4/sturdy')
    const mark = stack.ecr.registryRequests.length
    stack.ecr.faults.blobUpload503(3)
    const result = await publish('blob503-4', HELM_VERSIONS.v4)
    await expectPublished(result, 'blob503-4/sturdy')
    expect(stack.ecr.registryRequests.slice(mark).filter(r => r.status === 503)).toHaveLength(3)
  })

  it.each([HELM_VERSIONS.v3_18, HELM_VERSIONS.v4])(
    'a failed "Tag" step with Helm %s: the push is retried and the tag points at the pushed digest',
    async helmVersion => {
      const ns = `tagstep-${helmVersion.replace(/\./g, '')}`
      await createRepository(stack, `${ns}/sturdy`, 'IMMUTABLE')
      stack.ecr.faults.tagStep(1)
      const result = await publish(ns, helmVersion)
      await expectPublished(result, `${ns}/sturdy`)
      expect(result.stdout).toMatch(/Push attempt 1 failed \(.*not found.*\); retrying/)
      expect(stack.ecr.repositories()[`${ns}/sturdy`].imageTags).toEqual([result.outputs.version])
    }
  )

  it('registry down: fails in well under a minute with one line naming the host; nothing pushed', async () => {
    await createRepository(stack, 'down/sturdy')
    const puts = manifestPuts(stack)
    stack.ecr.faults.registryDown()
    try {
      const result = await publish('down', HELM_VERSIONS.v4)
      const line = singleError(result)
      expect(line).toContain(`Could not log in to registry ${stack.ecr.registryHost}`)
      expect(line).toContain('check "registry", the runner\'s network')
      expect(result.durationMs).toBeLessThan(60_000)
      expect(result.post?.exitCode).toBe(0)
    } finally {
      stack.ecr.faults.registryUp()
    }
    expect(manifestPuts(stack)).toBe(puts)
  })
})

describe('credential faults: a clear message, no retry storm', () => {
  it('an expired ECR token: the login is refused once, naming the fix', async () => {
    await createRepository(stack, 'expired/sturdy')
    const apiMark = stack.ecr.apiCalls.length
    const mark = stack.ecr.registryRequests.length
    stack.ecr.faults.expiredTokens(1)
    const result = await publish('expired', HELM_VERSIONS.v4)
    const line = singleError(result)
    expect(line).toContain(`Registry ${stack.ecr.registryHost} rejected the login`)
    expect(line).toContain('check the credentials')
    expect(line).toContain('Your authorization token has expired')
    const requests = stack.ecr.registryRequests.slice(mark)
    expect(requests.every(r => r.path === '/v2/' && r.status === 401)).toBe(true)
    // One login attempt: the action does not retry a refused login.
    expect(requests).toHaveLength(await oneRefusedLogin(HELM_VERSIONS.v4))
    expect(stack.ecr.apiCalls.slice(apiMark).map(c => c.op)).toEqual(['GetAuthorizationToken'])
  })

  it('a wrong registry password (username/password inputs): refused once, naming the inputs', async () => {
    const mark = stack.ecr.registryRequests.length
    const result = await publish('', HELM_VERSIONS.v4, {
      inputs: {
        registry: stack.ecr.registryHost,
        username: 'AWS',
        password: 'not-the-password',
        'ca-file': stack.certs.caFile
      }
    })
    const line = singleError(result)
    expect(line).toContain(`Registry ${stack.ecr.registryHost} rejected the login`)
    expect(line).toContain('"username"/"password"')
    const requests = stack.ecr.registryRequests.slice(mark)
    expect(requests.every(r => r.path === '/v2/' && r.status === 401)).toBe(true)
    expect(requests).toHaveLength(await oneRefusedLogin(HELM_VERSIONS.v4))
  })

  it('a wrong AWS secret key: InvalidSignatureException named with the fix, not retried', async () => {
    const mark = stack.ecr.apiCalls.length
    const result = await publish('wrong-key', HELM_VERSIONS.v4, {
      env: { AWS_SECRET_ACCESS_KEY: 'wrongSecretKey/0000/TEST/not-the-emulator-key' }
    })
    const line = singleError(result)
    expect(line).toContain(
      'AWS rejected the credentials for ecr:GetAuthorizationToken in eu-west-2'
    )
    expect(line).toContain('InvalidSignatureException')
    expect(line).toContain('configure AWS credentials for the job')
    const calls = stack.ecr.apiCalls.slice(mark)
    expect(calls.map(c => c.error)).toEqual(['InvalidSignatureException'])
  })
})

describe('Helm download faults', () => {
  const archive = `/helm-v${HELM_VERSIONS.v3_18}-linux-amd64.tar.gz`

  it('a download cut off mid-stream is retried (after @actions/tool-cache pause of 10-20 s) and installs the verified Helm', async () => {
    await createRepository(stack, 'truncated/sturdy')
    const cache = await makeTempDir('tc-truncated')
    const before = stack.mirror.downloads()[archive] ?? 0
    stack.mirror.faults.truncateOnce(HELM_VERSIONS.v3_18)
    const result = await publish('truncated', HELM_VERSIONS.v3_18, { toolCache: cache })
    await expectPublished(result, 'truncated/sturdy')
    expect((stack.mirror.downloads()[archive] ?? 0) - before).toBe(2)
    expect(result.durationMs).toBeLessThan(60_000)
    const installed = path.join(cache, 'helm', HELM_VERSIONS.v3_18, 'x64', 'helm')
    expect(await sha256File(installed)).toBe(
      await sha256File(await helmBinary(HELM_VERSIONS.v3_18))
    )
  }, 90_000)

  it('a checksum file answering 500 once is retried', async () => {
    await createRepository(stack, 'sum500/sturdy')
    const cache = await makeTempDir('tc-sum500')
    stack.mirror.faults.error500Once(`${archive}.sha256sum`)
    const result = await publish('sum500', HELM_VERSIONS.v3_18, { toolCache: cache })
    await expectPublished(result, 'sum500/sturdy')
  })

  it('a checksum mismatch is not retried and leaves the cache empty; the next clean run installs', async () => {
    await createRepository(stack, 'tampered/sturdy')
    const cache = await makeTempDir('tc-tampered')
    const before = stack.mirror.downloads()[archive] ?? 0
    const puts = manifestPuts(stack)
    stack.mirror.faults.tamper(HELM_VERSIONS.v3_18)
    const bad = await publish('tampered', HELM_VERSIONS.v3_18, { toolCache: cache })
    expect(singleError(bad)).toContain('failed checksum verification')
    expect((stack.mirror.downloads()[archive] ?? 0) - before).toBe(1)
    expect(await readdir(cache)).toEqual([])
    // Verified before extraction: the (valid) tampered tar.gz was never unpacked, nor left behind.
    const left = (await filesBelow(bad.dirs.runnerTemp)).map(f => path.basename(f))
    expect(left.filter(f => f === 'helm' || f.endsWith('.tar.gz') || f === 'LICENSE')).toEqual([])
    expect(manifestPuts(stack)).toBe(puts)
    stack.mirror.faults.clear()
    const good = await publish('tampered', HELM_VERSIONS.v3_18, { toolCache: cache })
    await expectPublished(good, 'tampered/sturdy')
    expect(existsSync(path.join(cache, 'helm', HELM_VERSIONS.v3_18, 'x64.complete'))).toBe(true)
  })
})
