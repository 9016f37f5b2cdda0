import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ArchiveEntry } from '../../src/chart/archive.js'
import { helmConfig, publishedIsThisArchive } from '../../src/publish/predict-manifest.js'

const sha256 = (data: string | Buffer) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`

/*
 * Recorded 2026-12-05 from `helm push` of one chart (Chart.yaml below) to the in-process
 * registry with Helm 3.9.4, 3.18.0 and 4.1.4; LAYER stands for the archive's digest and size.
 */
const CHART_YAML =
  'apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: "1.0"\ndescription: A <demo> & chart\ndependencies: []\n'
const CONFIG =
  '{"name":"demo","version":"0.1.0","description":"A \\u003cdemo\\u003e \\u0026 chart","apiVersion":"v2","appVersion":"1.0"}'
const CONFIG_REF = `{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:268eafbfe66bf8763ed60b2e63788e4755ee1f5731cf4649e4f35badb1112b8b","size":118}`
const LAYER = (digest: string, size: number) =>
  `[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"${digest}","size":${size}}]`
const RECORDED = {
  '3.9.4': (layer: string) => `{"schemaVersion":2,"config":${CONFIG_REF},"layers":${layer}}`,
  '3.18.0 and 4.1.4': (layer: string) =>
    `{"schemaVersion":2,"config":${CONFIG_REF},"layers":${layer},"annotations":{"org.opencontainers.image.created":"2026-12-05T19:29:20Z","org.opencontainers.image.description":"A \\u003cdemo\\u003e \\u0026 chart","org.opencontainers.image.title":"demo","org.opencontainers.image.version":"0.1.0"}}`
}

async function archive(): Promise<{ file: string; entries: ArchiveEntry[]; layer: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'predict-'))
  const file = path.join(dir, 'demo-0.1.0.tgz')
  const data = Buffer.from('stands for the packaged chart')
  await fs.writeFile(file, data)
  const mtime = new Date('2026-12-05T19:29:20Z')
  await fs.utimes(file, mtime, mtime)
  const entry = { name: 'demo/Chart.yaml', type: 'file', data: Buffer.from(CHART_YAML) }
  return { file, entries: [entry as ArchiveEntry], layer: LAYER(sha256(data), data.length) }
}

describe('publishedIsThisArchive', () => {
  it('says false for a digest no Helm would write for this archive (then Helm is asked)', async () => {
    const { file, entries } = await archive()
    expect(await publishedIsThisArchive(file, entries, `sha256:${'a'.repeat(64)}`)).toBe(false)
    expect(await publishedIsThisArchive(file, undefined, `sha256:${'a'.repeat(64)}`)).toBe(false)
  })

  it('says false when another archive is published under the same Chart.yaml', async () => {
    const { file, entries } = await archive()
    const other = RECORDED['3.18.0 and 4.1.4'](LAYER(sha256('other bytes'), 11))
    expect(await publishedIsThisArchive(file, entries, sha256(other))).toBe(false)
  })

  it.each(Object.entries(RECORDED))(
    'recognises the manifest Helm %s wrote',
    async (_v, manifest) => {
      const { file, entries, layer } = await archive()
      expect(await publishedIsThisArchive(file, entries, sha256(manifest(layer)))).toBe(true)
    }
  )
})

describe('helmConfig', () => {
  it('is the config blob Helm writes, in its field order', () => {
    expect(JSON.stringify(helmConfig(CHART_YAML))).toBe(
      JSON.stringify(
        JSON.parse(
          CONFIG.replace(/\\u003c/g, '<')
            .replace(/\\u003e/g, '>')
            .replace(/\\u0026/g, '&')
        )
      )
    )
  })

  it.each([
    ['maintainers', 'apiVersion: v2\nname: a\nversion: 1.0.0\nmaintainers:\n  - name: x\n'],
    ['dependencies', 'apiVersion: v2\nname: a\nversion: 1.0.0\ndependencies:\n  - name: b\n'],
    ['annotations', 'apiVersion: v2\nname: a\nversion: 1.0.0\nannotations:\n  x: y\n'],
    [
      'a number where Helm wants a string',
      'apiVersion: v2\nname: a\nversion: 1.0.0\nappVersion: 1.0\n'
    ],
    ['not a mapping', '- a\n']
  ])('leaves %s to Helm', (_what, yaml) => {
    expect(helmConfig(yaml)).toBeUndefined()
  })
})
