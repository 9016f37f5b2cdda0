import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { crc32, deflateRawSync, gzipSync } from 'node:zlib'
import { pack } from 'tar-stream'
import yauzl from 'yauzl'

/** An archive entry: a name ending in `/` is a directory. */
export interface ArchiveEntry {
  name: string
  data?: string | Buffer
  mode?: number
}

/** Entries named as a recorded listing names them, with small made-up contents. */
export function entriesFor(listing: string[]): ArchiveEntry[] {
  return listing.map(name =>
    name.endsWith('/')
      ? { name }
      : {
          name,
          data: `fake ${path.posix.basename(name)} for ${name}\n`,
          mode: /\/helm(\.exe)?$/.test(name) ? 0o755 : 0o644
        }
  )
}

/** A .zip as `zip -r` writes it (deflated files, Unix modes in the external attributes). */
export function zipArchive(entries: ArchiveEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const entry of entries) {
    const isDir = entry.name.endsWith('/')
    const data = isDir ? Buffer.alloc(0) : Buffer.from(entry.data ?? '')
    const compressed = isDir ? data : deflateRawSync(data)
    const method = isDir ? 0 : 8
    const crc = crc32(data)
    const name = Buffer.from(entry.name)
    const mode = isDir ? 0o40755 : 0o100000 | (entry.mode ?? 0o644)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4) // version needed
    local.writeUInt16LE(0, 6) // flags
    local.writeUInt16LE(method, 8)
    local.writeUInt16LE(0, 10) // time
    local.writeUInt16LE(0x21, 12) // date: 1980-01-01
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(compressed.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28) // extra length
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4) // made by Unix, so the mode below counts
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt16LE(0, 12)
    central.writeUInt16LE(0x21, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(compressed.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt16LE(0, 30) // extra
    central.writeUInt16LE(0, 32) // comment
    central.writeUInt16LE(0, 34) // disk
    central.writeUInt16LE(0, 36) // internal attributes
    central.writeUInt32LE(((mode << 16) | (isDir ? 0x10 : 0)) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    locals.push(local, name, compressed)
    centrals.push(central, name)
    offset += local.length + name.length + compressed.length
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

/** A .tar.gz as `tar -zcf` writes it. */
export async function tarGzArchive(entries: ArchiveEntry[]): Promise<Buffer> {
  const tar = pack()
  const chunks: Buffer[] = []
  tar.on('data', (chunk: unknown) => chunks.push(chunk as Buffer))
  for (const entry of entries) {
    if (entry.name.endsWith('/')) {
      tar.entry({ name: entry.name, type: 'directory', mode: 0o755 })
    } else {
      tar.entry({ name: entry.name, mode: entry.mode ?? 0o644 }, Buffer.from(entry.data ?? ''))
    }
  }
  tar.finalize()
  await once(tar, 'end')
  return gzipSync(Buffer.concat(chunks))
}

/** Lists a zip's entry names (yauzl), to check an archive against a recorded listing. */
export function zipEntryNames(file: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error(`cannot open ${file}`))
      const names: string[] = []
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName)
        zip.readEntry()
      })
      zip.on('end', () => resolve(names))
      zip.on('error', reject)
      zip.readEntry()
    })
  })
}

/**
 * Unzips `file` into a new directory under `parent` with yauzl, as tool-cache's extractZip does
 * with PowerShell on Windows (and `unzip` elsewhere): same tree, no system tool needed.
 */
export async function unzipTo(file: string, parent: string): Promise<string> {
  const dest = await fs.promises.mkdtemp(path.join(parent, 'unzip-'))
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true }, (error, z) =>
      error || !z ? reject(error ?? new Error(`cannot open ${file}`)) : resolve(z)
    )
  )
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject)
    zip.on('end', () => resolve())
    zip.on('entry', (entry: yauzl.Entry) => {
      const target = path.join(dest, ...entry.fileName.split('/'))
      if (entry.fileName.endsWith('/')) {
        fs.promises.mkdir(target, { recursive: true }).then(() => zip.readEntry(), reject)
        return
      }
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) return reject(error ?? new Error(`cannot read ${entry.fileName}`))
        fs.promises
          .mkdir(path.dirname(target), { recursive: true })
          .then(() => pipeline(stream, fs.createWriteStream(target)))
          .then(() => zip.readEntry(), reject)
      })
    })
    zip.readEntry()
  })
  return dest
}
