import * as zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { writeTar, type ArchiveEntry } from '../../src/chart/archive.js'
import { describeDifferences, diffArchives } from '../../src/chart/compare.js'

function entry(name: string, data: string | Buffer, mtime = 1, mode = 0o644): ArchiveEntry {
  return {
    name,
    type: 'file',
    mode,
    mtime,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    data: Buffer.from(data)
  }
}
const tgz = async (entries: ArchiveEntry[]) => zlib.gzipSync(await writeTar(entries))

const base = (mtime: number, values = 'replicas: 1\n') => [
  entry('app/Chart.yaml', 'apiVersion: v2\nname: app\nversion: 0.1.0\ndescription: x\n', mtime),
  entry('app/values.yaml', values, mtime),
  entry('app/templates/cm.yaml', 'kind: ConfigMap\n', mtime)
]

describe('diffArchives', () => {
  it('same files, other timestamps, modes, order and compression: no difference', async () => {
    const published = await tgz(base(1))
    const candidate = zlib.gzipSync(
      await writeTar([...base(999)].reverse().map(e => ({ ...e, mode: 0o600 }))),
      { level: 1 }
    )
    expect(await diffArchives(published, candidate)).toEqual([])
  })

  it('Chart.yaml is compared as data (Helm re-serialises it)', async () => {
    const published = await tgz([entry('app/Chart.yaml', 'name: app\nversion: 0.1.0\n')])
    const sameData = await tgz([entry('app/Chart.yaml', "version: '0.1.0'\nname: app\n")])
    const otherData = await tgz([
      entry('app/Chart.yaml', 'name: app\nversion: 0.1.0\nappVersion: "2"\n')
    ])
    expect(await diffArchives(published, sameData)).toEqual([])
    expect(await diffArchives(published, otherData)).toEqual([
      { path: 'Chart.yaml', change: 'changed' }
    ])
  })

  it('changed, added and removed files, by path', async () => {
    const published = await tgz(base(1))
    const candidate = await tgz([
      ...base(1, 'replicas: 2\n').filter(e => !e.name.endsWith('cm.yaml')),
      entry('app/templates/new.yaml', 'x')
    ])
    expect(await diffArchives(published, candidate)).toEqual([
      { path: 'templates/cm.yaml', change: 'removed' },
      { path: 'templates/new.yaml', change: 'added' },
      { path: 'values.yaml', change: 'changed' }
    ])
  })

  it('nested dependency archives are compared by content', async () => {
    const dep = async (mtime: number, data: string) => tgz([entry('db/values.yaml', data, mtime)])
    const published = await tgz([
      entry('app/Chart.yaml', 'name: app\n'),
      entry('app/charts/db-1.0.0.tgz', await dep(1, 'a'))
    ])
    const same = await tgz([
      entry('app/Chart.yaml', 'name: app\n'),
      entry('app/charts/db-1.0.0.tgz', await dep(5, 'a'))
    ])
    const other = await tgz([
      entry('app/Chart.yaml', 'name: app\n'),
      entry('app/charts/db-1.0.0.tgz', await dep(5, 'b'))
    ])
    expect(await diffArchives(published, same)).toEqual([])
    expect(await diffArchives(published, other)).toEqual([
      { path: 'charts/db-1.0.0.tgz', change: 'changed' }
    ])
  })
})

describe('describeDifferences', () => {
  it('names the first few and counts the rest', () => {
    const d = ['a', 'b', 'c', 'd', 'e'].map(path => ({ path, change: 'changed' as const }))
    expect(describeDifferences(d.slice(0, 1))).toBe('a changed')
    expect(describeDifferences(d)).toBe('a changed, b changed, c changed and 2 more')
  })
})
