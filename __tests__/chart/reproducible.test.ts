import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { readArchive, writeTar, type ArchiveEntry } from '../../src/chart/archive.js'
import { UserError } from '../../src/errors.js'
import {
  FALLBACK_EPOCH,
  commitTime,
  gitEnv,
  makeReproducible,
  normaliseArchive,
  parseSourceDateEpoch,
  sourceEpochResolver
} from '../../src/chart/reproducible.js'

const EPOCH = 1700000000

function entry(name: string, data: string, extra: Partial<ArchiveEntry> = {}): ArchiveEntry {
  return {
    name,
    type: 'file',
    mode: 0o644,
    mtime: 1234567890,
    uid: 1001,
    gid: 121,
    uname: 'runner',
    gname: 'docker',
    data: Buffer.from(data),
    ...extra
  }
}

async function tgz(entries: ArchiveEntry[]): Promise<Buffer> {
  return zlib.gzipSync(await writeTar(entries))
}

const chart = (mtime: number, order: 'helm' | 'reverse' = 'helm') => {
  const entries = [
    entry('app/Chart.yaml', 'apiVersion: v2\nname: app\nversion: 0.1.0\n', { mtime }),
    entry('app/values.yaml', 'replicas: 1\n', { mtime, mode: 0o664 }),
    entry('app/templates/cm.yaml', 'kind: ConfigMap\n', { mtime, uid: 0, uname: 'root' }),
    entry('app/files/run.sh', '#!/bin/sh\n', { mtime, mode: 0o775 })
  ]
  return order === 'helm' ? entries : [...entries].reverse()
}

describe('parseSourceDateEpoch', () => {
  it.each([
    ['0', 0],
    ['1700000000', 1700000000],
    [' 1700000000\n', 1700000000]
  ])('%j -> %d', (value, expected) => {
    expect(parseSourceDateEpoch(value)).toBe(expected)
  })
  it.each(['-1', '1.5', '17e8', 'yesterday', '0x10', '99999999999'])(
    '%j is one line naming SOURCE_DATE_EPOCH',
    value => {
      expect(() => parseSourceDateEpoch(value)).toThrow(UserError)
      expect(() => parseSourceDateEpoch(value)).toThrow(/^SOURCE_DATE_EPOCH must be a whole number/)
    }
  )
})

describe('sourceEpochResolver', () => {
  it('SOURCE_DATE_EPOCH wins and git is not asked; an invalid one fails at once', async () => {
    let asked = 0
    const git = async () => (asked++, 1)
    const resolve = sourceEpochResolver({ SOURCE_DATE_EPOCH: '1600000000' }, git)
    expect(await resolve('/a')).toEqual({ seconds: 1600000000, from: 'SOURCE_DATE_EPOCH' })
    expect(asked).toBe(0)
    expect(() => sourceEpochResolver({ SOURCE_DATE_EPOCH: 'soon' }, git)).toThrow(UserError)
  })
  it('else the commit time (once per directory), else the documented constant', async () => {
    const asked: string[] = []
    const resolve = sourceEpochResolver({}, async dir => {
      asked.push(dir)
      return dir === '/repo' ? 1650000000 : undefined
    })
    expect(await resolve('/repo')).toEqual({ seconds: 1650000000, from: 'git' })
    expect(await resolve('/repo')).toEqual({ seconds: 1650000000, from: 'git' })
    expect(await resolve('/nogit')).toEqual({ seconds: FALLBACK_EPOCH, from: 'fallback' })
    expect(asked).toEqual(['/repo', '/nogit'])
    expect(new Date(FALLBACK_EPOCH * 1000).toISOString()).toBe('1980-01-01T00:00:00.000Z')
  })
})

describe('commitTime (real git)', () => {
  it('reads the commit time of a checkout, also from a shallow clone; undefined outside git', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'epoch-'))
    const repo = path.join(root, 'repo')
    await fs.mkdir(path.join(repo, 'charts', 'app'), { recursive: true })
    await fs.writeFile(path.join(repo, 'charts', 'app', 'Chart.yaml'), 'name: app\n')
    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', args, {
        cwd,
        env: {
          ...gitEnv(),
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@example.com',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@example.com',
          GIT_COMMITTER_DATE: '1650000000 +0000',
          GIT_AUTHOR_DATE: '1640000000 +0000'
        }
      })
    git(repo, 'init', '-q')
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'one')
    expect(await commitTime(path.join(repo, 'charts', 'app'))).toBe(1650000000)
    git(root, 'clone', '-q', '--depth', '1', `file://${repo}`, 'shallow')
    expect(await commitTime(path.join(root, 'shallow', 'charts', 'app'))).toBe(1650000000)
    const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'nogit-'))
    expect(await commitTime(outside)).toBeUndefined()
  })
  it('gitEnv keeps no action inputs, secrets or HELM_ settings', () => {
    const env = gitEnv({
      PATH: '/bin',
      HOME: '/home/r',
      HELM_REGISTRY_CONFIG: '/private/config.json',
      HELM_CACHE_HOME: '/cache',
      INPUT_PASSWORD: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
      GIT_DIR: '/elsewhere'
    })
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/home/r',
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_PAGER: 'cat',
      GIT_OPTIONAL_LOCKS: '0'
    })
  })
})

describe('normaliseArchive', () => {
  it('the same chart packaged at different times, by different users, in another order: same bytes', async () => {
    const a = await normaliseArchive(await tgz(chart(1111111111)), EPOCH)
    const b = await normaliseArchive(await tgz(chart(1999999999, 'reverse')), EPOCH)
    expect(a.equals(b)).toBe(true)
    expect((await normaliseArchive(a, EPOCH)).equals(a)).toBe(true) // idempotent
  })

  it('normalises mtime, owners and modes; Chart.yaml first, then by path; contents unchanged', async () => {
    const entries = await readArchive(await normaliseArchive(await tgz(chart(1)), EPOCH))
    expect(
      entries.map(e => [e.name, e.mode.toString(8), e.mtime, e.uid, e.gid, e.uname, e.gname])
    ).toEqual([
      ['app/Chart.yaml', '644', EPOCH, 0, 0, '', ''],
      ['app/files/run.sh', '755', EPOCH, 0, 0, '', ''],
      ['app/templates/cm.yaml', '644', EPOCH, 0, 0, '', ''],
      ['app/values.yaml', '644', EPOCH, 0, 0, '', '']
    ])
    expect(entries[3].data.toString()).toBe('replicas: 1\n')
  })

  it('a fixed gzip header: no mtime, no name, XFL 0, OS 255', async () => {
    const out = await normaliseArchive(await tgz(chart(1)), EPOCH)
    expect([...out.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])
  })

  it('keeps entry types (directories, symlinks) and normalises nested dependency archives', async () => {
    const nested = (mtime: number) =>
      tgz([
        entry('db/Chart.yaml', 'name: db\n', { mtime }),
        entry('db/values.yaml', 'a: 1\n', { mtime })
      ])
    const withDeps = async (mtime: number) =>
      tgz([
        entry('app/Chart.yaml', 'name: app\n', { mtime }),
        entry('app/templates', '', { type: 'directory', mode: 0o700, mtime }),
        entry('app/link.yaml', '', { type: 'symlink', linkname: 'values.yaml', mtime }),
        entry('app/charts/db-1.0.0.tgz', '', { data: await nested(mtime), mtime })
      ])
    const a = await normaliseArchive(await withDeps(1), EPOCH)
    const b = await normaliseArchive(await withDeps(2), EPOCH)
    expect(a.equals(b)).toBe(true)
    const entries = await readArchive(a)
    expect(entries.map(e => [e.name, e.type, e.mode.toString(8)])).toEqual([
      ['app/Chart.yaml', 'file', '644'],
      ['app/charts/db-1.0.0.tgz', 'file', '644'],
      ['app/link.yaml', 'symlink', '777'],
      ['app/templates/', 'directory', '755']
    ])
    expect(entries[2].linkname).toBe('values.yaml')
    const inner = await readArchive(entries[1].data)
    expect(inner.map(e => e.mtime)).toEqual([EPOCH, EPOCH])
  })

  it('makeReproducible rewrites the file and sets its mtime to the epoch', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'repro-'))
    const file = path.join(dir, 'app-0.1.0.tgz')
    await fs.writeFile(file, await tgz(chart(42)))
    await makeReproducible(file, EPOCH)
    expect((await fs.stat(file)).mtimeMs).toBe(EPOCH * 1000)
    expect((await readArchive(await fs.readFile(file))).every(e => e.mtime === EPOCH)).toBe(true)
  })
})
