import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { buffer } from 'node:stream/consumers'
import { gzipSync } from 'node:zlib'
import { pack, type Header } from 'tar-stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { extractTarGzMember, extractZipMember } from '../../src/helm/helm-archive.js'

const MEMBER = 'linux-amd64/helm'

let tmp: string
let dest: string

beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'helm-archive-')))
  dest = path.join(tmp, 'out')
})
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true })
})

/** A .tar.gz of the given entries, built in memory (names are taken as given, hostile ones too). */
async function archiveOf(
  entries: (Partial<Header> & { name: string; body?: string })[]
): Promise<string> {
  const p = pack()
  for (const { body, ...header } of entries) p.entry(header, body ?? '')
  p.finalize()
  const file = path.join(tmp, `a-${Math.random().toString(36).slice(2)}.tar.gz`)
  await fs.writeFile(file, gzipSync(await buffer(p)))
  return file
}

/** Every path under `dir` (relative), sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true }).catch(() => [] as string[])
  return entries.sort()
}

describe('extractTarGzMember', () => {
  it('writes only the named member, executable; other members stay in the archive', async () => {
    const archive = await archiveOf([
      { name: 'linux-amd64/', type: 'directory' },
      { name: 'linux-amd64/LICENSE', body: 'Apache-2.0' },
      { name: MEMBER, body: '#!/bin/sh\necho helm\n', mode: 0o644 },
      { name: 'linux-amd64/README.md', body: 'readme' }
    ])
    const written = await extractTarGzMember(archive, dest, MEMBER)
    expect(written).toBe(path.join(dest, 'linux-amd64', 'helm'))
    expect(await tree(dest)).toEqual(['linux-amd64', 'linux-amd64/helm'])
    expect(execFileSync(written!).toString()).toBe('helm\n')
  })

  it('accepts ./-prefixed names (tar -czf x -C dir .)', async () => {
    const archive = await archiveOf([{ name: `./${MEMBER}`, body: 'bin' }])
    expect(await extractTarGzMember(archive, dest, MEMBER)).toBe(path.join(dest, MEMBER))
  })

  it('reads archives made by the tar CLI', async () => {
    const src = path.join(tmp, 'src')
    await fs.mkdir(path.join(src, 'linux-amd64'), { recursive: true })
    await fs.writeFile(path.join(src, MEMBER), 'bin', { mode: 0o755 })
    const archive = path.join(tmp, 'cli.tar.gz')
    execFileSync('tar', ['-czf', archive, '-C', src, 'linux-amd64'])
    expect(await fs.readFile((await extractTarGzMember(archive, dest, MEMBER))!, 'utf8')).toBe(
      'bin'
    )
  })

  it('ignores a symlink or hard link named like the member, and writes nothing', async () => {
    const archive = await archiveOf([
      { name: MEMBER, type: 'symlink', linkname: '/etc/passwd' },
      { name: MEMBER, type: 'link', linkname: '/etc/passwd' }
    ])
    expect(await extractTarGzMember(archive, dest, MEMBER)).toBeUndefined()
    expect(await tree(dest)).toEqual([])
  })

  it('never writes names that climb out or are absolute', async () => {
    const archive = await archiveOf([
      { name: '../../escaped', body: 'x' },
      { name: `/${path.join(tmp, 'absolute')}`, body: 'x' },
      { name: `linux-amd64/../../${MEMBER}`, body: 'x' },
      { name: MEMBER, body: 'bin' }
    ])
    expect(await extractTarGzMember(archive, dest, MEMBER)).toBe(path.join(dest, MEMBER))
    expect(await tree(tmp)).toEqual(
      [path.basename(archive), 'out', 'out/linux-amd64', 'out/linux-amd64/helm'].sort()
    )
  })

  it('takes the first regular member only', async () => {
    const archive = await archiveOf([
      { name: MEMBER, body: 'first' },
      { name: MEMBER, body: 'second' }
    ])
    const written = await extractTarGzMember(archive, dest, MEMBER)
    expect(await fs.readFile(written!, 'utf8')).toBe('first')
  })

  it('does not write through a file or link already at the destination', async () => {
    await fs.mkdir(path.join(dest, 'linux-amd64'), { recursive: true })
    await fs.symlink(path.join(tmp, 'victim'), path.join(dest, MEMBER))
    const archive = await archiveOf([{ name: MEMBER, body: 'bin' }])
    await expect(extractTarGzMember(archive, dest, MEMBER)).rejects.toThrow(/EEXIST/)
    expect(await tree(tmp)).not.toContain('victim')
  })

  it('gives undefined for an archive without the member', async () => {
    const archive = await archiveOf([{ name: 'darwin-arm64/helm', body: 'bin' }])
    expect(await extractTarGzMember(archive, dest, MEMBER)).toBeUndefined()
  })

  it('rejects a file that is not gzip', async () => {
    const file = path.join(tmp, 'not.tar.gz')
    await fs.writeFile(file, '<html>mirror error</html>')
    await expect(extractTarGzMember(file, dest, MEMBER)).rejects.toThrow(/header/i)
  })

  it('rejects a truncated archive', async () => {
    const archive = await archiveOf([{ name: MEMBER, body: 'x'.repeat(100_000) }])
    const bytes = await fs.readFile(archive)
    await fs.writeFile(archive, bytes.subarray(0, bytes.length >> 1))
    await expect(extractTarGzMember(archive, dest, MEMBER)).rejects.toThrow()
  })
})

describe('extractZipMember (Windows)', () => {
  it('runs %SystemRoot%\\System32\\tar.exe for the one member, with the allow-listed environment', async () => {
    // A stand-in tar.exe records its argv and environment, then extracts like bsdtar would.
    const systemRoot = path.join(tmp, 'Windows')
    const record = path.join(tmp, 'tar-call.json')
    await fs.mkdir(path.join(systemRoot, 'System32'), { recursive: true })
    await fs.writeFile(
      path.join(systemRoot, 'System32', 'tar.exe'),
      `#!/usr/bin/env node
const fs = require('fs'), path = require('path')
const args = process.argv.slice(2)
fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ args, env: process.env }))
const dest = args[args.indexOf('-C') + 1], member = args.at(-1)
fs.mkdirSync(path.dirname(path.join(dest, member)), { recursive: true })
fs.writeFileSync(path.join(dest, member), 'helm.exe')
`,
      { mode: 0o755 }
    )
    const saved = { ...process.env }
    Object.assign(process.env, {
      SystemRoot: systemRoot,
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
      ACTIONS_RUNTIME_TOKEN: 'runtime-token',
      INPUT_PASSWORD: 'hunter2'
    })
    try {
      const member = 'windows-amd64/helm.exe'
      const written = await extractZipMember('C:\\t\\helm.zip', dest, member)
      expect(written).toBe(path.join(dest, 'windows-amd64', 'helm.exe'))
      const call = JSON.parse(await fs.readFile(record, 'utf8')) as {
        args: string[]
        env: Record<string, string>
      }
      expect(call.args).toEqual(['-xf', 'C:\\t\\helm.zip', '-C', dest, member])
      const values = Object.values(call.env).join('\n')
      for (const secret of ['aws-secret', 'runtime-token', 'hunter2']) {
        expect(values).not.toContain(secret)
      }
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
      Object.assign(process.env, saved)
    }
  })
})
