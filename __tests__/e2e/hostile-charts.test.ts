/**
 * Issue 10: nothing from outside the workspace goes into a chart. The bundled action runs against
 * the emulated ECR with real Helm: a link to a file outside the workspace, a file:// dependency
 * outside it and a FIFO each fail their chart with one line naming the file, and the registry
 * sees nothing of that chart (no blob, no manifest, no pull) while the mirror serves nothing. A
 * link that stays inside the workspace is packaged, published and pulls back with the linked
 * content, and Helm's "found symbolic link" note is shown as a warning.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HELM_VERSIONS, ALL_HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { makeTempDir } from '../../testbed/paths.js'
import { annotations, errorLines, runAction, type RunActionResult } from '../../testbed/runner.js'
import { createRepository, loggedInHelm, workspaceWith } from '../../testbed/scenario.js'
import { startStack, type Stack } from '../../testbed/stack.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'

const SECRET = 'AWS_SECRET_ACCESS_KEY=hostile-chart-e2e-secret'

let stack: Stack
let toolCache: string
/** Outside every workspace: what a hostile chart would like to publish. */
let outside: string

beforeAll(async () => {
  stack = await startStack()
  toolCache = await prewarmedToolCache(ALL_HELM_VERSIONS)
  outside = await makeTempDir('outside')
  await writeFile(path.join(outside, 'credentials'), `${SECRET}\n`)
  await mkdir(path.join(outside, 'lib', 'templates'), { recursive: true })
  await writeFile(
    path.join(outside, 'lib', 'Chart.yaml'),
    'apiVersion: v2\nname: lib\nversion: 0.1.0\n'
  )
  await writeFile(path.join(outside, 'lib', 'templates', 'secret.txt'), `${SECRET}\n`)
})
afterAll(async () => {
  await stack?.stop()
})

/** Registry requests that touch repository `repo` (blobs, manifests, tags), after index `from`. */
function repositoryRequests(from: number, repo: string): string[] {
  return stack.ecr.registryRequests
    .slice(from)
    .filter(r => r.path.startsWith(`/v2/${repo}/`))
    .map(r => `${r.method} ${r.path}`)
}

async function run(
  workspace: string,
  helmVersion: string,
  charts: string
): Promise<{ result: RunActionResult; from: number; mirrorRequests: number }> {
  const from = stack.ecr.registryRequests.length
  const mirrorBefore = stack.mirror.requests.length
  const result = await runAction({
    workspace,
    toolCache,
    env: stack.actionEnv,
    inputs: {
      charts,
      namespace: 'hostile',
      'helm-version': helmVersion,
      'helm-download-url': stack.mirror.url
    }
  })
  return { result, from, mirrorRequests: stack.mirror.requests.length - mirrorBefore }
}

describe.each([HELM_VERSIONS.v3_9, HELM_VERSIONS.v4])('Helm %s', helmVersion => {
  const short = helmVersion.replace(/\./g, '')

  it('a link to a file outside the workspace fails that chart only; nothing of it reaches the registry', async () => {
    const leaky = `leaky-${short}`
    const clean = `clean-${short}`
    await createRepository(stack, `hostile/${leaky}`)
    await createRepository(stack, `hostile/${clean}`)
    const workspace = await workspaceWith([
      { name: leaky, version: '0.1.0' },
      { name: clean, version: '0.1.0' }
    ])
    await symlink(
      path.join(outside, 'credentials'),
      path.join(workspace, 'charts', leaky, 'templates', 'NOTES.txt')
    )
    const { result, from, mirrorRequests } = await run(workspace, helmVersion, 'charts/*')
    expect(result.exitCode).toBe(1)
    const errors = errorLines(result.stdout)
    expect(errors[0]).toMatch(
      new RegExp(
        `^Chart ${leaky} 0\\.1\\.0: Chart "charts/${leaky}" file templates/NOTES\\.txt is a symbolic link to .*/credentials, outside the workspace \\(.*\\): nothing outside the workspace is published; copy the file into the workspace or remove the link\\.$`
      )
    )
    expect(errors[1]).toContain(`1 of 2 charts failed (${leaky}); 1 pushed`)
    expect(errors).toHaveLength(2)
    expect(repositoryRequests(from, `hostile/${leaky}`)).toEqual([])
    expect(
      repositoryRequests(from, `hostile/${clean}`).some(r => /^PUT .*\/manifests\//.test(r))
    ).toBe(true)
    expect(result.outputs.charts).toContain(clean)
    expect(mirrorRequests).toBe(0)
    expect(result.stdout + result.stderr).not.toContain('hostile-chart-e2e-secret')
  })

  it('a file:// dependency outside the workspace fails before helm dependency build', async () => {
    const chart = `fardep-${short}`
    await createRepository(stack, `hostile/${chart}`)
    const workspace = await workspaceWith([
      {
        name: chart,
        version: '0.1.0',
        dependencies: [{ name: 'lib', version: '0.1.0', repository: `file://${outside}/lib` }]
      }
    ])
    const { result, from, mirrorRequests } = await run(workspace, helmVersion, `charts/${chart}`)
    expect(result.exitCode).toBe(1)
    expect(errorLines(result.stdout)).toEqual([
      `Chart "charts/${chart}" dependency file://${outside}/lib resolves to ${outside}/lib, outside the workspace (${workspace}): nothing outside the workspace is published; check the dependency out into the workspace or use a chart repository.`
    ])
    // Helm never copied the dependency in.
    expect(existsSync(path.join(workspace, 'charts', chart, 'charts'))).toBe(false)
    expect(repositoryRequests(from, `hostile/${chart}`)).toEqual([])
    expect(mirrorRequests).toBe(0)
  })

  it('a FIFO in a chart fails with our line (Helm is never left waiting on it)', async () => {
    const chart = `fifo-${short}`
    await createRepository(stack, `hostile/${chart}`)
    const workspace = await workspaceWith([{ name: chart, version: '0.1.0' }])
    execFileSync('mkfifo', [path.join(workspace, 'charts', chart, 'templates', 'pipe.yaml')])
    const { result, from, mirrorRequests } = await run(workspace, helmVersion, `charts/${chart}`)
    expect(result.exitCode).toBe(1)
    expect(errorLines(result.stdout)).toEqual([
      `Chart "charts/${chart}" file templates/pipe.yaml is a named pipe (FIFO): Helm cannot package it; remove it from the chart directory.`
    ])
    expect(repositoryRequests(from, `hostile/${chart}`)).toEqual([])
    expect(mirrorRequests).toBe(0)
  })
})

describe.each(ALL_HELM_VERSIONS)('Helm %s', helmVersion => {
  it('links inside the workspace (a file and a directory) are packaged, published and pull back', async () => {
    const chart = `linked-${helmVersion.replace(/\./g, '')}`
    await createRepository(stack, `hostile/${chart}`)
    const workspace = await workspaceWith([{ name: chart, version: '0.1.0' }])
    const shared = path.join(workspace, 'shared')
    await mkdir(path.join(shared, 'files'), { recursive: true })
    await writeFile(path.join(shared, 'NOTES.txt'), 'shared notes from the monorepo\n')
    await writeFile(path.join(shared, 'files', 'app.conf'), 'linked = true\n')
    const dir = path.join(workspace, 'charts', chart)
    await symlink('../../../shared/NOTES.txt', path.join(dir, 'templates', 'NOTES.txt'))
    await symlink('../../shared/files', path.join(dir, 'files'))
    const { result } = await run(workspace, helmVersion, `charts/${chart}`)
    expect(errorLines(result.stdout), result.stdout).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs.pushed).toBe('true')
    // Helm's own note that it followed a link is shown, not hidden.
    expect(
      annotations(result.stdout, 'warning').some(w =>
        /^Helm: found symbolic link in path.*NOTES\.txt/.test(w)
      )
    ).toBe(true)

    const helm = await loggedInHelm(stack, helmVersion)
    try {
      const dest = path.join(helm.home, 'pulled')
      await mkdir(dest)
      const pulled = await helm.run([
        'pull',
        `oci://${stack.ecr.registryHost}/hostile/${chart}`,
        '--version',
        '0.1.0',
        '--destination',
        dest,
        '--untar'
      ])
      expect(pulled.exitCode, pulled.output).toBe(0)
      const [untarred] = await readdir(dest)
      expect(await readFile(path.join(dest, untarred, 'templates', 'NOTES.txt'), 'utf8')).toBe(
        'shared notes from the monorepo\n'
      )
      expect(await readFile(path.join(dest, untarred, 'files', 'app.conf'), 'utf8')).toBe(
        'linked = true\n'
      )
    } finally {
      await helm.cleanup()
    }
  })
})
