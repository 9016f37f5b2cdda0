/**
 * Issue 21: the escapes a writer of the chart sources or of the registry could use. The bundled
 * action runs against the emulated ECR with real Helm (3.9.4, 3.18.0, 4.1.4). In one step:
 *   - F4: a published version with a planted type-'7' template, and one whose template sits after
 *     the end-of-archive marker (Helm never loads it), are not "the same content": each fails in
 *     one line; a published version that really is the same is skipped;
 *   - F3: a packaged chart whose .prov links out of the workspace fails, nothing of it reaches
 *     the registry; one with a .prov inside the workspace is pushed with it;
 *   - a chart file hard-linked to an outside file fails;
 *   - a decompression bomb at a published tag fails naming the chart.
 * And, with no registry involved: credentials in "helm-download-url" are refused without being
 * printed; "helm-sha256" is checked against a cached Helm; each line of a multi-line password is
 * masked.
 */
import { createHash } from 'node:crypto'
import { link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawEntry, rawTgz } from '../../__fixtures__/tar-headers.js'
import { readArchive } from '../../src/chart/archive.js'
import { ALL_HELM_VERSIONS, HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { helmCli } from '../../testbed/helm-cli.js'
import { request } from '../../testbed/net-util.js'
import { makeTempDir } from '../../testbed/paths.js'
import { errorLines, runAction, type RunActionResult } from '../../testbed/runner.js'
import { createRepository, workspaceWith } from '../../testbed/scenario.js'
import { makeChart, startStack, type Stack } from '../../testbed/stack.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'

const SECRET = 'AWS_SECRET_ACCESS_KEY=hostile-registry-e2e-secret'
const PLANTED = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: planted\nstringData:\n  x: ${SECRET}\n`

let stack: Stack
let toolCache: string
let outside: string

beforeAll(async () => {
  stack = await startStack()
  toolCache = await prewarmedToolCache(ALL_HELM_VERSIONS)
  outside = await makeTempDir('outside')
  await writeFile(path.join(outside, 'credentials'), `${SECRET}\n`)
})
afterAll(async () => {
  await stack?.stop()
})

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`

/** Pushes one blob to the backend registry (monolithic upload). */
async function pushBlob(repo: string, data: Buffer): Promise<string> {
  const auth = { authorization: stack.registry.authorization }
  const started = await request(`${stack.registry.url}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    headers: auth
  })
  const location = new URL(String(started.headers.location), stack.registry.url)
  const digest = sha256(data)
  location.searchParams.set('digest', digest)
  const put = await request(location.toString(), {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: data
  })
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${put.body.toString()}`)
  return digest
}

/** Publishes `layer` as chart NAME:VERSION in hostile/NAME, byte for byte, as a registry writer could. */
async function plant(name: string, layer: Buffer): Promise<string> {
  const repo = `hostile/${name}`
  const config = Buffer.from(JSON.stringify({ apiVersion: 'v2', name, version: '0.1.0' }))
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.cncf.helm.config.v1+json',
        digest: await pushBlob(repo, config),
        size: config.length
      },
      layers: [
        {
          mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
          digest: await pushBlob(repo, layer),
          size: layer.length
        }
      ]
    })
  )
  const put = await request(`${stack.registry.url}/v2/${repo}/manifests/0.1.0`, {
    method: 'PUT',
    headers: {
      authorization: stack.registry.authorization,
      'content-type': 'application/vnd.oci.image.manifest.v1+json'
    },
    body: manifest
  })
  if (put.status !== 201) throw new Error(`manifest: HTTP ${put.status} ${put.body.toString()}`)
  return sha256(manifest)
}

/** `helm package DIR` with a separate Helm of `version`; the archive's path. */
async function helmPackage(version: string, dir: string, destination: string): Promise<string> {
  const helm = await helmCli(version)
  try {
    const res = await helm.run(['package', dir, '--destination', destination])
    if (res.exitCode !== 0) throw new Error(`helm package: ${res.output}`)
    return path.join(destination, `${path.basename(dir)}-0.1.0.tgz`)
  } finally {
    await helm.cleanup()
  }
}

/** The entries of a Helm-made archive, as raw tar blocks (files only, as Helm writes them). */
async function rawEntries(archive: string): Promise<{ name: string; block: Buffer }[]> {
  return (await readArchive(await readFile(archive)))
    .filter(e => e.type === 'file')
    .map(e => ({ name: e.name, block: rawEntry({ name: e.name, data: e.data }) }))
}

function repositoryRequests(from: number, repo: string): string[] {
  return stack.ecr.registryRequests
    .slice(from)
    .filter(r => r.path.startsWith(`/v2/${repo}/`))
    .map(r => `${r.method} ${r.path}`)
}

/** The one error line about chart `name` ("Chart NAME 0.1.0: ..."). */
function chartError(result: RunActionResult, name: string): string | undefined {
  // A chart's line names it once: "Chart NAME 0.1.0: …", or its own error "Chart NAME version …".
  const lines = errorLines(result.stdout).filter(l => l.startsWith(`Chart ${name} `))
  expect(lines.length, lines.join('\n')).toBeLessThanOrEqual(1)
  return lines[0]
}

describe.each(ALL_HELM_VERSIONS)(
  'Helm %s: one step with hostile charts and a hostile registry',
  helmVersion => {
    const s = helmVersion.replace(/\./g, '')
    const names = {
      planted: `planted-${s}`,
      removed: `removed-${s}`,
      same: `same-${s}`,
      linked: `hardlink-${s}`,
      prov: `provout-${s}`,
      signed: `signed-${s}`,
      bomb: `bomb-${s}`
    }
    let result: RunActionResult
    let from: number
    let workspace: string

    beforeAll(async () => {
      for (const name of Object.values(names)) await createRepository(stack, `hostile/${name}`)
      workspace = await workspaceWith(
        [names.planted, names.removed, names.same, names.linked, names.bomb].map(name => ({
          name,
          version: '0.1.0'
        }))
      )
      const scratch = await makeTempDir(`plant-${s}`)
      // What Helm itself packages for each chart; the registry is given altered copies.
      const packaged = async (name: string) =>
        rawEntries(await helmPackage(helmVersion, path.join(workspace, 'charts', name), scratch))
      const planted = await packaged(names.planted)
      await plant(
        names.planted,
        rawTgz([
          ...planted.map(e => e.block),
          rawEntry({ name: `${names.planted}/templates/evil.yaml`, type: '7', data: PLANTED })
        ])
      )
      const removed = await packaged(names.removed)
      const template = (e: { name: string }) => e.name.endsWith('/templates/configmap.yaml')
      await plant(
        names.removed,
        rawTgz(
          removed.filter(e => !template(e)).map(e => e.block),
          removed.find(template)?.block
        )
      )
      // Helm's own bytes (pax headers for long names and all): read the way Helm reads them.
      await plant(
        names.same,
        await readFile(
          await helmPackage(helmVersion, path.join(workspace, 'charts', names.same), scratch)
        )
      )
      await plant(names.bomb, gzipSync(Buffer.alloc(101 * 1024 * 1024)))
      // A chart file hard-linked to a file outside the workspace.
      const linkedSecret = path.join(outside, `credentials-${s}`)
      await writeFile(linkedSecret, `${SECRET}\n`)
      await link(
        linkedSecret,
        path.join(workspace, 'charts', names.linked, 'templates', 'NOTES.txt')
      )
      // Packaged charts: one whose .prov links out, one with a .prov in the workspace.
      const dist = path.join(workspace, 'dist')
      await mkdir(dist)
      for (const name of [names.prov, names.signed]) {
        await helmPackage(
          helmVersion,
          await makeChart(path.join(scratch, 'src', name), { name, version: '0.1.0' }),
          dist
        )
      }
      await symlink(
        path.join(outside, 'credentials'),
        path.join(dist, `${names.prov}-0.1.0.tgz.prov`)
      )
      await writeFile(path.join(dist, `${names.signed}-0.1.0.tgz.prov`), 'provenance of signed\n')

      from = stack.ecr.registryRequests.length
      result = await runAction({
        workspace,
        toolCache,
        env: stack.actionEnv,
        inputs: {
          charts: 'charts/*\ndist/*.tgz',
          namespace: 'hostile',
          'skip-existing': 'true',
          'helm-version': helmVersion,
          'helm-download-url': stack.mirror.url
        }
      })
    }, 240_000)

    it('fails the step, with one line per failed chart and nothing outside in any log', () => {
      expect(result.exitCode).toBe(1)
      expect(result.stdout + result.stderr).not.toContain('hostile-registry-e2e-secret')
      expect(errorLines(result.stdout).at(-1)).toMatch(
        /^5 of 7 charts failed \(.*\); 1 pushed: see the errors above/
      )
    })

    it('F4: a planted type-7 template is not the same content', () => {
      expect(chartError(result, names.planted)).toMatch(
        new RegExp(
          `^Chart ${names.planted} version 0\\.1\\.0 is already published \\(oci://\\S+/hostile/${names.planted}:0\\.1\\.0\\) with different content \\(published entry ${names.planted}/templates/evil\\.yaml is a contiguous file \\(type 7\\), which Helm loads as a file\\): bump the chart version to publish this change\\.$`
        )
      )
    })

    it('F4: a template hidden after the end-of-archive marker (removed for Helm) is not the same content', () => {
      expect(chartError(result, names.removed)).toMatch(
        new RegExp(
          `^Chart ${names.removed} version 0\\.1\\.0 is already published \\(.*\\) with different content \\(the published archive holds data after the end-of-archive marker, which Helm never reads\\): bump the chart version`
        )
      )
    })

    it('a published version that really is the same content is skipped', () => {
      expect(chartError(result, names.same)).toBeUndefined()
      expect(result.stdout).toMatch(
        new RegExp(`hostile/${names.same}:0\\.1\\.0 already exists with the same content`)
      )
      for (const name of [names.planted, names.removed]) {
        expect(result.stdout).not.toMatch(new RegExp(`${name}:0\\.1\\.0 already exists`))
      }
    })

    it('a chart file hard-linked to an outside file fails before the registry sees the chart', () => {
      expect(chartError(result, names.linked)).toBe(
        `Chart ${names.linked} 0.1.0: Chart "charts/${names.linked}" file templates/NOTES.txt is a regular file with 2 hard links, which may be a file from outside the workspace: copy the file instead of hard-linking it (cp without -l).`
      )
      expect(repositoryRequests(from, `hostile/${names.linked}`)).toEqual([])
    })

    it('F3: a .prov linked out of the workspace fails; nothing of that chart reaches the registry', () => {
      expect(chartError(result, names.prov)).toMatch(
        new RegExp(
          `^Chart ${names.prov} 0\\.1\\.0: Chart "dist/${names.prov}-0\\.1\\.0\\.tgz" file ${names.prov}-0\\.1\\.0\\.tgz\\.prov is a symbolic link to .*/credentials, outside the workspace \\(.*\\): nothing outside the workspace is published; copy the file into the workspace or remove the link\\.$`
        )
      )
      expect(repositoryRequests(from, `hostile/${names.prov}`)).toEqual([])
    })

    it('F3: a .prov inside the workspace is pushed from the checked copy, as the provenance layer', async () => {
      expect(chartError(result, names.signed)).toBeUndefined()
      const manifest = await request(
        `${stack.registry.url}/v2/hostile/${names.signed}/manifests/0.1.0`,
        {
          headers: {
            authorization: stack.registry.authorization,
            accept: 'application/vnd.oci.image.manifest.v1+json'
          }
        }
      )
      const layers = (
        JSON.parse(manifest.body.toString()) as { layers: { mediaType: string; digest: string }[] }
      ).layers
      const prov = layers.find(
        l => l.mediaType === 'application/vnd.cncf.helm.chart.provenance.v1.prov'
      )
      expect(prov?.digest).toBe(sha256(Buffer.from('provenance of signed\n')))
    })

    it('a decompression bomb at a published tag fails naming the chart', () => {
      expect(chartError(result, names.bomb)).toMatch(
        new RegExp(
          `^Chart ${names.bomb} 0\\.1\\.0: The published archive of chart "${names.bomb}" unpacks to more than 100 MiB, more than Helm loads \\(a decompression bomb\\?\\): `
        )
      )
    })
  }
)

describe('inputs and the tool cache (Helm 4.1.4)', () => {
  it('F8: credentials in helm-download-url are refused in one line, and never printed', async () => {
    const url = new URL(stack.mirror.url)
    url.username = 'mirror-user'
    url.password = 'hunter2-in-url'
    const result = await runAction({
      workspace: await workspaceWith([{ name: 'urlcreds', version: '0.1.0' }]),
      toolCache: await makeTempDir('tc-empty'),
      env: stack.actionEnv,
      debug: true,
      inputs: { charts: 'charts/*', namespace: 'hostile', 'helm-download-url': url.toString() }
    })
    expect(result.exitCode).toBe(1)
    expect(errorLines(result.stdout)).toEqual([
      'Input "helm-download-url" must not hold credentials ("user:password@" before the host; the value is not shown): the download sends none, so use a mirror that needs no login, reachable from the runner.'
    ])
    const printed = (result.stdout + result.stderr)
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
    expect(printed).not.toContain('hunter2-in-url')
    expect(result.stdout).toContain('::add-mask::hunter2-in-url')
  })

  it('helm-sha256 against a cached Helm: no record downloads and checks; a record that differs fails in one line', async () => {
    const version = HELM_VERSIONS.v4
    const cache = await prewarmedToolCache([version]) // cached by someone else: no record
    const pin = stack.mirror.archives[version].sha256
    const workspace = await workspaceWith([{ name: 'pinned', version: '0.1.0' }])
    await createRepository(stack, 'hostile/pinned')
    const run = (sha: string) =>
      runAction({
        workspace,
        toolCache: cache,
        env: stack.actionEnv,
        inputs: {
          charts: 'charts/*',
          namespace: 'hostile',
          'skip-existing': 'true',
          'helm-version': version,
          'helm-sha256': sha,
          'helm-download-url': stack.mirror.url
        }
      })
    const mirrorBefore = stack.mirror.requests.length
    const first = await run(pin)
    expect(errorLines(first.stdout)).toEqual([])
    expect(first.stdout).toContain('has no recorded archive digest; downloading it')
    expect(first.stdout).toContain('pinned by helm-sha256')
    const second = await run(pin)
    expect(second.exitCode).toBe(0)
    expect(second.stdout).toContain(`Helm v${version} from the tool cache`)
    const wrong = 'e'.repeat(64)
    const mirrorAfter = stack.mirror.requests.length
    const third = await run(wrong)
    expect(third.exitCode).toBe(1)
    expect(errorLines(third.stdout)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Helm ${version} in the tool cache \\(.*\\) was installed from an archive with sha256 ${pin}, not the "helm-sha256" pin ${wrong}: `
        )
      )
    ])
    expect(stack.mirror.requests.length).toBe(mirrorAfter)
    expect(mirrorAfter).toBeGreaterThan(mirrorBefore)
  })

  it('each line of a multi-line password is masked before Helm runs', async () => {
    const result = await runAction({
      workspace: await workspaceWith([{ name: 'multiline', version: '0.1.0' }]),
      toolCache,
      env: stack.actionEnv,
      inputs: {
        charts: 'charts/*',
        registry: stack.registry.host,
        'plain-http': 'true',
        username: 'someone',
        password: 'hunter2-first-line\nhunter2-second-line\n\n',
        'helm-version': HELM_VERSIONS.v4,
        'helm-download-url': stack.mirror.url
      }
    })
    expect(result.exitCode).toBe(1)
    const masks = result.stdout.split('\n').filter(l => l.startsWith('::add-mask::'))
    expect(masks).toEqual(
      expect.arrayContaining(['::add-mask::hunter2-first-line', '::add-mask::hunter2-second-line'])
    )
    const printed = (result.stdout + result.stderr)
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
    expect(printed).not.toMatch(/hunter2-(first|second)-line/)
  })
})
