/**
 * The checked configuration end to end, through the bundled action: the fork's dry run (no
 * credentials, no region, no "registry") and a setting that is ignored with a warning.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { annotations, errorLines, runAction } from '../../testbed/runner.js'
import { createRepository, manifestPuts, workspaceWith } from '../../testbed/scenario.js'
import { startStack, type Stack } from '../../testbed/stack.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'

let stack: Stack
let toolCache: string
beforeAll(async () => {
  ;[stack, toolCache] = await Promise.all([
    startStack({ helmVersions: [HELM_VERSIONS.v4] }),
    prewarmedToolCache([HELM_VERSIONS.v4])
  ])
})
afterAll(() => stack?.stop())

describe('a pull request from a fork: dry run with no credentials, no region, no registry', () => {
  it('exits 0 with the digest, under the placeholder host, with no AWS call', async () => {
    const workspace = await workspaceWith([{ name: 'forked', version: '0.3.0' }])
    // A fork gets no AWS role: no keys and no region (configure-aws-credentials is skipped).
    const env = { ...stack.actionEnv, AWS_REGION: '', AWS_DEFAULT_REGION: '' }
    delete (env as Record<string, string | undefined>).AWS_ACCESS_KEY_ID
    delete (env as Record<string, string | undefined>).AWS_SECRET_ACCESS_KEY
    const apiCalls = stack.ecr.apiCalls.length
    const puts = manifestPuts(stack)
    const result = await runAction({
      workspace,
      toolCache,
      env,
      inputs: {
        charts: 'charts/forked',
        namespace: 'charts',
        'create-repository': 'true',
        'dry-run': 'true',
        'helm-version': HELM_VERSIONS.v4,
        'helm-download-url': stack.mirror.url
      }
    })
    expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).not.toContain('Input "region" is empty')
    expect(annotations(result.stdout, 'notice')).toEqual([
      expect.stringMatching(
        /^Dry run without registry credentials: .* the registry was not checked/
      )
    ])
    expect(result.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(result.outputs.ref).toBe('oci://registry-not-checked/charts/forked:0.3.0')
    expect(JSON.parse(result.outputs.charts)).toEqual([
      expect.objectContaining({ chart: 'forked', pushed: false, outcome: 'would push' })
    ])
    expect(stack.ecr.apiCalls.length).toBe(apiCalls)
    expect(manifestPuts(stack)).toBe(puts)
  })
})

describe('image-tag-mutability without create-repository', () => {
  it('warns that it is ignored, and publishes', async () => {
    await createRepository(stack, 'warned/mutable')
    const workspace = await workspaceWith([{ name: 'mutable', version: '0.1.0' }])
    const result = await runAction({
      workspace,
      toolCache,
      env: stack.actionEnv,
      inputs: {
        charts: 'charts/mutable',
        namespace: 'warned',
        'image-tag-mutability': 'IMMUTABLE',
        'helm-version': HELM_VERSIONS.v4,
        'helm-download-url': stack.mirror.url
      }
    })
    expect(errorLines(result.stdout), result.stdout + result.stderr).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(annotations(result.stdout, 'warning')).toContain(
      'Input "image-tag-mutability" only applies to repositories this step creates, and "create-repository" is false: it is ignored (see the README on changing existing repositories).'
    )
    expect(result.outputs.pushed).toBe('true')
  })
})
