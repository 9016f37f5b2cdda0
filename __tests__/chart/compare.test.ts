import * as zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { writeTar, type ArchiveEntry } from '../../src/chart/archive.js'
import { describeDifferences, diffArchives } from '../../src/chart/compare.js'
import { chartTgz, paxEntry, rawEntry, rawTgz } from '../../__fixtures__/tar-headers.js'

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

const FILES = {
  'Chart.yaml': 'apiVersion: v2\nname: app\nversion: 0.1.0\n',
  'templates/cm.yaml': 'kind: ConfigMap\n'
}
const PLANTED = 'kind: Secret\n'

describe('diffArchives: a published archive Helm reads otherwise is never the same content', () => {
  const notComparable = (path: string, reason: string | RegExp) => [
    { path, change: 'not comparable', reason: expect.stringMatching(reason) as unknown }
  ]

  it.each([
    [
      'a planted type-7 (contiguous) template',
      rawEntry({ name: 'app/templates/evil.yaml', type: '7', data: PLANTED }),
      'app/templates/evil.yaml',
      /contiguous file \(type 7\)/
    ],
    [
      'a symbolic link entry',
      rawEntry({ name: 'app/templates/l.yaml', type: '2' }),
      'app/templates/l.yaml',
      /symbolic link/
    ],
    [
      'a hard link entry',
      rawEntry({ name: 'app/templates/h.yaml', type: '1' }),
      'app/templates/h.yaml',
      /hard link/
    ],
    [
      'a FIFO entry',
      rawEntry({ name: 'app/templates/p.yaml', type: '6' }),
      'app/templates/p.yaml',
      /named pipe/
    ],
    [
      'an unknown type',
      rawEntry({ name: 'app/templates/z.yaml', type: 'Z', data: PLANTED }),
      'app/templates/z.yaml',
      /type "Z"/
    ],
    ['a global pax header', rawEntry({ name: 'PaxGlobal', type: 'g' }), 'PaxGlobal', /global pax/],
    [
      'an absolute name',
      rawEntry({ name: '/app/templates/evil.yaml', data: PLANTED }),
      '/app/templates/evil.yaml',
      /absolute/
    ],
    [
      'a ".." segment',
      rawEntry({ name: 'app/templates/../evil.yaml', data: PLANTED }),
      'app/templates/../evil.yaml',
      /"\.\."/
    ],
    [
      'a "." segment',
      rawEntry({ name: 'app/./templates/cm.yaml', data: PLANTED }),
      'app/./templates/cm.yaml',
      /"\."/
    ],
    [
      'a backslash',
      rawEntry({ name: 'app\\templates\\evil.yaml', data: PLANTED }),
      'app\\templates\\evil.yaml',
      /backslash/
    ],
    [
      'a duplicate path',
      rawEntry({ name: 'app/templates/cm.yaml', data: PLANTED }),
      'app/templates/cm.yaml',
      /appears twice/
    ],
    [
      'a second top directory',
      rawEntry({ name: 'other/templates/evil.yaml', data: PLANTED }),
      'other/templates/evil.yaml',
      /second top directory/
    ],
    [
      'a file with directory mode bits (Helm skips it)',
      rawEntry({ name: 'app/templates/x.yaml', mode: 0o40644, data: PLANTED }),
      'app/templates/x.yaml',
      /not a regular file/
    ],
    [
      'a pax sparse record',
      Buffer.concat([
        paxEntry({ 'GNU.sparse.map': '0,1' }),
        rawEntry({ name: 'app/templates/s.yaml', data: PLANTED })
      ]),
      'PaxHeader',
      /GNU\.sparse/
    ]
  ])('%s', async (_what, planted, path, reason) => {
    const published = chartTgz('app', FILES, [planted])
    const candidate = chartTgz('app', FILES)
    expect(await diffArchives(published, candidate, 'app')).toEqual(notComparable(path, reason))
  })

  it('entries after the end marker (Helm stops there; a lenient reader reads on)', async () => {
    const candidate = chartTgz('app', FILES)
    const published = rawTgz(
      [rawEntry({ name: 'app/Chart.yaml', data: FILES['Chart.yaml'] })],
      rawEntry({ name: 'app/templates/cm.yaml', data: FILES['templates/cm.yaml'] })
    )
    expect(await diffArchives(published, candidate, 'app')).toEqual(
      notComparable('', /after the end-of-archive marker/)
    )
  })

  it('an archive that is not gzipped (Helm cannot load it)', async () => {
    const published = zlib.gunzipSync(chartTgz('app', FILES))
    expect(await diffArchives(published, chartTgz('app', FILES), 'app')).toEqual(
      notComparable('', /no gzip stream/)
    )
  })

  it('a name with a control character (Go refuses a NUL in a pax path; a newline fools logs)', async () => {
    const published = chartTgz('app', FILES, [
      paxEntry({ path: 'app/templates/x\u0000.yaml' }),
      rawEntry({ name: 'ignored', data: PLANTED })
    ])
    expect(await diffArchives(published, chartTgz('app', FILES), 'app')).toEqual(
      notComparable('app/templates/x\\u0000.yaml', /control character/)
    )
  })

  it('a refused name is printed escaped and cut short', async () => {
    const name = `app/templates/${'y'.repeat(300)}\n::error::x`
    const published = chartTgz('app', FILES, [
      paxEntry({ path: name }),
      rawEntry({ name: 'ignored', data: PLANTED })
    ])
    const [d] = await diffArchives(published, chartTgz('app', FILES), 'app')
    expect(d.path).toBe(`app/templates/${'y'.repeat(186)}...`)
    expect(describeDifferences([d])).not.toMatch(/\n/)
  })

  it('a top directory other than the chart name', async () => {
    const published = chartTgz('evil', FILES)
    expect(await diffArchives(published, chartTgz('app', FILES), 'app')).toEqual(
      notComparable('evil/', /other than the chart's name "app"/)
    )
  })

  it.each([
    [
      'a name that is not UTF-8',
      rawEntry({ name: '', nameBytes: Buffer.from('app/x\xff.yaml', 'latin1') }),
      /not UTF-8/
    ],
    [
      'a v7 header',
      rawEntry({ name: 'app/x.yaml', format: 'v7', data: 'x' }),
      /neither ustar nor GNU/
    ],
    ['a bad checksum', rawEntry({ name: 'app/x.yaml', data: 'x' }).fill(0x31, 148, 150), /checksum/]
  ])('%s', async (_what, planted, reason) => {
    const published = chartTgz('app', FILES, [planted])
    const [d] = await diffArchives(published, chartTgz('app', FILES), 'app')
    expect(d.change).toBe('not comparable')
    expect(d.reason).toMatch(reason)
  })

  it('a removed template is a difference, a planted one too', async () => {
    const candidate = chartTgz('app', FILES)
    const removed = chartTgz('app', { 'Chart.yaml': FILES['Chart.yaml'] })
    const planted = chartTgz('app', { ...FILES, 'templates/evil.yaml': PLANTED })
    expect(await diffArchives(removed, candidate, 'app')).toEqual([
      { path: 'templates/cm.yaml', change: 'added' }
    ])
    expect(await diffArchives(planted, candidate, 'app')).toEqual([
      { path: 'templates/evil.yaml', change: 'removed' }
    ])
  })

  it('a decompression bomb fails in one line naming the chart', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(101 * 1024 * 1024))
    await expect(diffArchives(bomb, chartTgz('app', FILES), 'app')).rejects.toThrow(
      /^The published archive of chart "app" unpacks to more than 100 MiB/
    )
  })

  it('what Helm writes is read: ustar prefix, pax and GNU long names, the top directory entry', async () => {
    const long = `templates/${'d'.repeat(120)}.yaml`
    const published = rawTgz([
      rawEntry({ name: 'app/', type: '5', mode: 0o755 }),
      rawEntry({ name: 'Chart.yaml', prefix: 'app', data: FILES['Chart.yaml'] }),
      paxEntry({ path: `app/${long}`, mtime: '1.5' }),
      rawEntry({ name: 'ignored', data: 'x' }),
      rawEntry({
        name: '././@LongLink',
        type: 'L',
        format: 'gnu',
        data: 'app/templates/cm.yaml\0'
      }),
      rawEntry({ name: 'app/templates/cm.y', format: 'gnu', data: FILES['templates/cm.yaml'] })
    ])
    const candidate = await tgz(
      Object.entries({ ...FILES, [long]: 'x' }).map(([name, data]) => entry(`app/${name}`, data))
    )
    expect(await diffArchives(published, candidate, 'app')).toEqual([])
  })
})

describe('diffArchives', () => {
  it('same files, other timestamps, modes, order and compression: no difference', async () => {
    const published = await tgz(base(1))
    const candidate = zlib.gzipSync(
      await writeTar([...base(999)].reverse().map(e => ({ ...e, mode: 0o600 }))),
      { level: 1 }
    )
    expect(await diffArchives(published, candidate, 'app')).toEqual([])
  })

  it('Chart.yaml is compared as data (Helm re-serialises it)', async () => {
    const published = await tgz([entry('app/Chart.yaml', 'name: app\nversion: 0.1.0\n')])
    const sameData = await tgz([entry('app/Chart.yaml', "version: '0.1.0'\nname: app\n")])
    const otherData = await tgz([
      entry('app/Chart.yaml', 'name: app\nversion: 0.1.0\nappVersion: "2"\n')
    ])
    expect(await diffArchives(published, sameData, 'app')).toEqual([])
    expect(await diffArchives(published, otherData, 'app')).toEqual([
      { path: 'Chart.yaml', change: 'changed' }
    ])
  })

  it('changed, added and removed files, by path', async () => {
    const published = await tgz(base(1))
    const candidate = await tgz([
      ...base(1, 'replicas: 2\n').filter(e => !e.name.endsWith('cm.yaml')),
      entry('app/templates/new.yaml', 'x')
    ])
    expect(await diffArchives(published, candidate, 'app')).toEqual([
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
    expect(await diffArchives(published, same, 'app')).toEqual([])
    expect(await diffArchives(published, other, 'app')).toEqual([
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

describe('describeDifferences: what the published archive breaks', () => {
  it('names the entry, or the archive', () => {
    expect(
      describeDifferences([
        { path: 'app/templates/x.yaml', change: 'not comparable', reason: 'a symbolic link' }
      ])
    ).toBe('published entry app/templates/x.yaml is a symbolic link')
    expect(describeDifferences([{ path: '', change: 'not comparable', reason: 'no files' }])).toBe(
      'the published archive holds no files'
    )
  })
})
