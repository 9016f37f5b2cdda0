/**
 * Issue 10: nothing from outside the workspace goes into a chart. The bundled action runs against
 * the emulated ECR with real Helm: a link to a file outside the workspace, a file:// dependency
 * outside it and a FIFO each fail their chart with one line naming the file, and the registry
 * sees nothing of that chart (no blob, no manifest, no pull) while the mirror serves nothing. A
 * link that stays inside the workspace is packaged, published and pulls back with the linked
 * content.
 *
 * Issue 21 (F1, F2, F7): Helm reads only walked files. Five spellings that once smuggled a
 * directory nobody walked into `helm dependency build` (a Chart.lock naming it, `Repository:`, a
 * merge key, `!!binary`, a duplicate key in requirements.yaml), a link into `.git`, and a linked
 * Chart.yaml each fail in one line, and nothing of that chart reaches the registry. So do a
 * file:// path that climbs over the top of the workspace and back in (from the private copy it
 * names the original checkout, .git and all), a dependency hidden behind a line break that only
 * Helm's YAML 1.1 reader sees (U+2028, a lone CR), and a requirements.yaml that renames the chart.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
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
    // Helm packages a private copy holding the linked files' contents: it follows no link.
    expect(annotations(result.stdout, 'warning').filter(w => /symbolic link/.test(w))).toEqual([])

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

/** A chart directory of `workspace` whose metadata files are written as given. */
async function rawChart(workspace: string, name: string, files: Record<string, string>) {
  const dir = path.join(workspace, 'charts', name)
  await mkdir(path.join(dir, 'templates'), { recursive: true })
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text)
  return dir
}

describe.each(ALL_HELM_VERSIONS)(
  'Helm %s: metadata Helm and the walk could read apart',
  helmVersion => {
    const short = helmVersion.replace(/\./g, '')

    it('F1: five spellings of a far dependency each fail their chart in one line; the clean chart publishes', async () => {
      const names = ['lock', 'case', 'merge', 'binary', 'dup'].map(n => `f1${n}-${short}`)
      const clean = `f1clean-${short}`
      for (const name of [...names, clean]) await createRepository(stack, `hostile/${name}`)
      const workspace = await workspaceWith([{ name: clean, version: '0.1.0' }])
      // A directory no chart names plainly, with a link out of the workspace.
      await mkdir(path.join(workspace, 'evil', 'templates'), { recursive: true })
      await writeFile(
        path.join(workspace, 'evil', 'Chart.yaml'),
        'apiVersion: v2\nname: evil\nversion: 0.1.0\n'
      )
      await symlink(
        path.join(outside, 'credentials'),
        path.join(workspace, 'evil', 'templates', 'leak.txt')
      )
      await mkdir(path.join(workspace, 'lib', 'templates'), { recursive: true })
      await writeFile(
        path.join(workspace, 'lib', 'Chart.yaml'),
        'apiVersion: v2\nname: lib\nversion: 0.1.0\n'
      )
      const head = (name: string) => `apiVersion: v2\nname: ${name}\nversion: 0.1.0\n`
      const [lock, cased, merge, binary, dup] = names
      await rawChart(workspace, lock, {
        'Chart.yaml': `${head(lock)}dependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../../lib\n`,
        'Chart.lock':
          'dependencies:\n  - name: evil\n    version: 0.1.0\n    repository: file://../../evil\ndigest: sha256:0\ngenerated: "2024-01-01T00:00:00Z"\n'
      })
      await rawChart(workspace, cased, {
        'Chart.yaml': `${head(cased)}dependencies:\n  - name: evil\n    version: 0.1.0\n    Repository: file://../../evil\n`
      })
      await rawChart(workspace, merge, {
        'Chart.yaml': `${head(merge)}dependencies:\n  - <<: {repository: "file://../../evil"}\n    name: evil\n    version: 0.1.0\n`
      })
      await rawChart(workspace, binary, {
        'Chart.yaml': `${head(binary)}dependencies:\n  - name: evil\n    version: 0.1.0\n    repository: !!binary ${Buffer.from('file://../../evil').toString('base64')}\n`
      })
      await rawChart(workspace, dup, {
        'Chart.yaml': `apiVersion: v1\nname: ${dup}\nversion: 0.1.0\n`,
        'requirements.yaml':
          'dependencies:\n  - name: evil\n    version: 0.1.0\n    repository: file://../../lib\n    repository: file://../../evil\n'
      })
      const { result, from, mirrorRequests } = await run(workspace, helmVersion, 'charts/*')
      expect(result.exitCode).toBe(1)
      const errors = errorLines(result.stdout)
      const line = (name: string) => errors.find(e => e.startsWith(`Chart ${name} 0.1.0:`)) ?? ''
      expect(line(lock)).toMatch(
        /Chart "evil" file templates\/leak\.txt is a symbolic link to .*\/credentials, outside the workspace/
      )
      expect(line(cased)).toContain(
        `charts/${cased}/Chart.yaml spells the key "repository" as "Repository" (Helm matches keys ignoring case) (line 7)`
      )
      expect(line(merge)).toContain(`charts/${merge}/Chart.yaml uses a YAML merge key (<<)`)
      expect(line(binary)).toContain(`charts/${binary}/Chart.yaml uses the YAML tag !!binary`)
      expect(line(dup)).toContain(`charts/${dup}/requirements.yaml has a duplicate key`)
      for (const name of names) {
        expect(line(name)).not.toContain('\n')
        expect(repositoryRequests(from, `hostile/${name}`)).toEqual([])
      }
      expect(errors).toHaveLength(names.length + 1)
      expect(
        repositoryRequests(from, `hostile/${clean}`).some(r => /^PUT .*\/manifests\//.test(r))
      ).toBe(true)
      expect(mirrorRequests).toBe(0)
      expect(result.stdout + result.stderr).not.toContain('hostile-chart-e2e-secret')
      // Helm never ran a dependency build in the checkout.
      for (const name of names)
        expect(existsSync(path.join(workspace, 'charts', name, 'charts'))).toBe(false)
    })

    it('a file:// path over the top of the workspace, a dependency hidden from the walk by a line break only Helm reads, and a requirements.yaml renaming the chart each fail in one line', async () => {
      const names = ['climb', 'ls', 'cr', 'rename'].map(n => `b${n}-${short}`)
      for (const name of names) await createRepository(stack, `hostile/${name}`)
      const workspace = await workspaceWith([])
      // The workspace root is a chart too, with the checkout token in .git/config.
      await writeFile(
        path.join(workspace, 'Chart.yaml'),
        'apiVersion: v2\nname: root\nversion: 0.1.0\n'
      )
      await mkdir(path.join(workspace, '.git'))
      await writeFile(
        path.join(workspace, '.git', 'config'),
        '[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0LXRva2Vu\n'
      )
      await mkdir(path.join(workspace, 'lib', 'templates'), { recursive: true })
      await writeFile(
        path.join(workspace, 'lib', 'Chart.yaml'),
        'apiVersion: v2\nname: lib\nversion: 0.1.0\n'
      )
      // From the private copy, climbing to "/" and naming the workspace reads the checkout itself.
      const overTheTop = `file://${'../'.repeat(40)}${workspace.slice(1)}`
      const head = (name: string) => `apiVersion: v2\nname: ${name}\nversion: 0.1.0\n`
      const lib = '  - name: lib\n    version: 0.1.0\n    repository: file://../../lib\n'
      const hidden = (sep: string) =>
        `# note${sep}  - name: root${sep}    version: 0.1.0${sep}    repository: file://${workspace}\n`
      const [climb, ls, cr, rename] = names
      await rawChart(workspace, climb, {
        'Chart.yaml': `${head(climb)}dependencies:\n  - name: root\n    version: 0.1.0\n    repository: ${overTheTop}\n`
      })
      await rawChart(workspace, ls, {
        'Chart.yaml': `${head(ls)}dependencies:\n${lib}${hidden('\u2028')}`
      })
      await rawChart(workspace, cr, {
        'Chart.yaml': `${head(cr)}dependencies:\n${lib}${hidden('\r')}`
      })
      await rawChart(workspace, rename, {
        'Chart.yaml': head(rename),
        'requirements.yaml': `name: ${climb}\nversion: 9.9.9\ndependencies: []\n`
      })
      const { result, from } = await run(
        workspace,
        helmVersion,
        names.map(n => `charts/${n}`).join('\n')
      )
      expect(result.exitCode).toBe(1)
      const errors = errorLines(result.stdout)
      const line = (name: string) => errors.find(e => e.startsWith(`Chart ${name} 0.1.0:`)) ?? ''
      expect(line(climb)).toContain(
        `Chart "charts/${climb}" dependency ${overTheTop} (Chart.yaml) climbs above the workspace on its way to`
      )
      expect(line(ls)).toContain(
        `charts/${ls}/Chart.yaml holds the character U+2028, which Helm reads as a line break (line 8)`
      )
      expect(line(cr)).toContain(
        `charts/${cr}/Chart.yaml holds a carriage return that ends no line`
      )
      expect(line(rename)).toContain(
        `charts/${rename}/requirements.yaml sets "name", which Helm would read over Chart.yaml's`
      )
      expect(errors).toHaveLength(names.length + 1) // and "4 of 4 charts failed (…)"
      for (const name of names) expect(repositoryRequests(from, `hostile/${name}`)).toEqual([])
      expect(result.stdout + result.stderr).not.toContain('c2VjcmV0LXRva2Vu')
    })

    it('F2: a link into .git fails its chart; F7: a linked Chart.yaml fails before it is read', async () => {
      const git = `f2git-${short}`
      await createRepository(stack, `hostile/${git}`)
      const workspace = await workspaceWith([{ name: git, version: '0.1.0' }])
      await mkdir(path.join(workspace, '.git'))
      await writeFile(
        path.join(workspace, '.git', 'config'),
        '[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0LXRva2Vu\n'
      )
      await symlink(
        '../../../.git/config',
        path.join(workspace, 'charts', git, 'templates', 'NOTES.txt')
      )
      const first = await run(workspace, helmVersion, `charts/${git}`)
      expect(first.result.exitCode).toBe(1)
      expect(errorLines(first.result.stdout)).toEqual([
        `Chart "charts/${git}" file templates/NOTES.txt is a symbolic link into a .git directory (${workspace}/.git/config): a checkout keeps its credentials there; remove the link.`
      ])
      expect(repositoryRequests(first.from, `hostile/${git}`)).toEqual([])

      const linked = `f7link-${short}`
      const ws7 = await workspaceWith([{ name: linked, version: '0.1.0' }])
      const chartYaml = path.join(ws7, 'charts', linked, 'Chart.yaml')
      await rm(chartYaml)
      await symlink('/dev/zero', chartYaml)
      const second = await run(ws7, helmVersion, `charts/${linked}`)
      expect(second.result.exitCode).toBe(1)
      expect(errorLines(second.result.stdout)).toEqual([
        `charts/${linked}/Chart.yaml is a symbolic link to /dev/zero, outside the workspace (${ws7}): make Chart.yaml a file of the chart.`
      ])
    })
  }
)
