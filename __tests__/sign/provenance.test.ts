import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as openpgp from 'openpgp'
import { parse } from 'yaml'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeTar } from '../../src/chart/archive.js'
import { deterministicGzip } from '../../src/chart/reproducible.js'
import { metadataYaml, provenanceMessage, sha256Hex } from '../../src/sign/message.js'
import {
  comparePublishedProvenance,
  provenanceNote,
  signArchive,
  signatureDate
} from '../../src/sign/provenance.js'
import { loadSigningKey, type SigningKey } from '../../src/sign/signing-key.js'
import { makeKey, type KeyType } from './keys.js'

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures')
const EPOCH = 1700000000

async function chartArchive(chartYaml: string): Promise<Buffer> {
  const file = (name: string, data: string) => ({
    name,
    type: 'file' as const,
    mode: 0o644,
    mtime: EPOCH,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    data: Buffer.from(data)
  })
  return deterministicGzip(
    await writeTar([file('demo/Chart.yaml', chartYaml), file('demo/values.yaml', 'a: 1\n')])
  )
}

const CHART_YAML = 'apiVersion: v2\nname: demo\nversion: 1.0.0\ndescription: Demo\n'

let dir: string
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sign-test-'))
})
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true })
})

async function key(type: KeyType = 'rsa'): Promise<{ signing: SigningKey; publicKey: string }> {
  const { privateKey, publicKey } = await makeKey(type, { date: new Date(EPOCH * 1000 - 1000) })
  return { signing: await loadSigningKey({ armoredKey: privateKey }), publicKey }
}

async function verify(prov: string, publicKey: string) {
  const message = await openpgp.readCleartextMessage({ cleartextMessage: prov })
  const verificationKeys = await openpgp.readKey({ armoredKey: publicKey })
  const result = await openpgp.verify({ message, verificationKeys, expectSigned: true })
  const signature = result.signatures[0]
  return { text: result.data, packet: (await signature.signature).packets[0] }
}

describe('provenance message (Helm pkg/provenance messageBlock)', () => {
  it('is what Helm 3.9.4 `helm package --sign` wrote for the same chart', async () => {
    const chartYaml = await fs.readFile(path.join(FIXTURES, 'rich-Chart.yaml'), 'utf8')
    const helm = await fs.readFile(path.join(FIXTURES, 'rich-helm-3.9.4-message.txt'), 'utf8')
    const [helmMeta, helmFiles] = helm.split('\n...\n')
    const ours = metadataYaml(chartYaml)
    expect(parse(ours)).toEqual(parse(helmMeta))
    // go-yaml folds a long line after column 80, the yaml package before it: the only difference.
    const unfold = (text: string) => text.replace(/\n {2}(?![\w./-]+:)/g, ' ')
    expect(unfold(ours)).toBe(unfold(helmMeta))
    expect(parse(helmFiles)).toEqual({
      files: { 'rich-1.2.3+build.4.tgz': expect.stringMatching(/^sha256:[0-9a-f]{64}$/) }
    })
  })

  it('drops unknown and empty fields, sorts keys, names the file and its SHA-256', () => {
    const archive = Buffer.from('archive bytes')
    const text = provenanceMessage(
      'version: 1.0.0\nname: demo\nx-custom: 1\ndeprecated: false\nkeywords: []\n',
      'demo-1.0.0.tgz',
      archive
    )
    expect(text).toBe(
      `name: demo\nversion: 1.0.0\n\n...\nfiles:\n  demo-1.0.0.tgz: sha256:${sha256Hex(archive)}`
    )
  })
})

describe('signArchive', () => {
  it('writes a clear-signed SHA-512 .prov that verifies, with the epoch as its time and no salt', async () => {
    const { signing, publicKey } = await key('rsa')
    const archive = path.join(dir, 'demo-1.0.0.tgz')
    const data = await chartArchive(CHART_YAML)
    await fs.writeFile(archive, data)
    const pushed = await signArchive(signing, {
      archive,
      packaged: false,
      epoch: EPOCH,
      workDir: dir
    })
    expect(pushed).toBe(archive)
    const prov = await fs.readFile(`${archive}.prov`, 'utf8')
    expect(prov).toMatch(/^-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\napiVersion: v2\n/)
    expect(prov).not.toContain('\r')
    expect(prov).toContain(
      `...\nfiles:\n  demo-1.0.0.tgz: sha256:${sha256Hex(data)}\n-----BEGIN PGP SIGNATURE-----`
    )
    const { text, packet } = await verify(prov, publicKey)
    expect(text).toContain('description: Demo')
    expect(packet.created?.getTime()).toBe(EPOCH * 1000)
    expect(packet.rawNotations).toEqual([])
    expect(packet.hashAlgorithm).toBe(openpgp.enums.hash.sha512)
  })

  it.each(['rsa', 'ed25519'] as const)('gives the same bytes twice with a %s key', async type => {
    const { signing } = await key(type)
    const data = await chartArchive(CHART_YAML)
    const provs = []
    for (const name of ['a', 'b']) {
      await fs.mkdir(path.join(dir, name))
      const archive = path.join(dir, name, 'demo-1.0.0.tgz')
      await fs.writeFile(archive, data)
      await signArchive(signing, { archive, packaged: false, epoch: EPOCH, workDir: dir })
      provs.push(await fs.readFile(`${archive}.prov`, 'utf8'))
    }
    expect(provs[0]).toBe(provs[1])
  })

  it('never dates a signature before the key (a commit older than the key)', async () => {
    const { signing } = await key('ed25519')
    expect(signatureDate(signing, EPOCH - 86400)).toEqual(signing.notBefore)
    expect(signatureDate(signing, EPOCH + 5).getTime()).toBe((EPOCH + 5) * 1000)
  })

  it('signs a copy of a packaged .tgz named CHART-VERSION.tgz, leaving the input alone', async () => {
    const { signing, publicKey } = await key('rsa')
    const input = path.join(dir, 'whatever.tgz')
    await fs.writeFile(input, await chartArchive(CHART_YAML))
    const work = await fs.mkdtemp(path.join(dir, 'work-'))
    const pushed = await signArchive(signing, {
      archive: input,
      packaged: true,
      epoch: EPOCH,
      workDir: work
    })
    expect(path.dirname(path.dirname(pushed))).toBe(work)
    expect(path.basename(pushed)).toBe('demo-1.0.0.tgz')
    expect(await fs.readdir(dir)).not.toContain('whatever.tgz.prov')
    const { text } = await verify(await fs.readFile(`${pushed}.prov`, 'utf8'), publicKey)
    expect(text).toContain('demo-1.0.0.tgz: sha256:')
  })

  it('pushes a packaged .tgz that has its own .prov as it is', async () => {
    const { signing } = await key('rsa')
    const input = path.join(dir, 'demo-1.0.0.tgz')
    await fs.writeFile(input, await chartArchive(CHART_YAML))
    await fs.writeFile(`${input}.prov`, 'their provenance')
    expect(await signArchive(signing, { archive: input, packaged: true, workDir: dir })).toBe(input)
    expect(await fs.readFile(`${input}.prov`, 'utf8')).toBe('their provenance')
  })
})

describe('published provenance', () => {
  it('is the same, none or another, and the skip log says so', async () => {
    const archive = path.join(dir, 'demo-1.0.0.tgz')
    await fs.writeFile(`${archive}.prov`, 'ours')
    await fs.writeFile(path.join(dir, 'same'), 'ours')
    await fs.writeFile(path.join(dir, 'other'), 'theirs')
    expect(await comparePublishedProvenance(archive, path.join(dir, 'same'))).toBe('same')
    expect(await comparePublishedProvenance(archive, path.join(dir, 'other'))).toBe('other')
    expect(await comparePublishedProvenance(archive, undefined)).toBe('none')
    expect(provenanceNote('none')).toBe('; it stays unsigned (it was published without provenance)')
    expect(provenanceNote('other')).toMatch(/keeps the provenance it was published with/)
    expect(provenanceNote('same')).toBe('')
  })
})
