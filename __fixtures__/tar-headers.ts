import { gzipSync } from 'node:zlib'

/*
 * Hand-made tar archives, byte by byte: the odd entries a hostile registry could serve (type '7',
 * links, pax records, names with "..", entries after the end marker) that tar writers avoid.
 */

export interface RawEntry {
  name: string
  /** The type flag character; default '0'. */
  type?: string
  data?: string | Buffer
  mode?: number
  /** Default 'ustar' ("ustar\0" "00"); 'gnu' is "ustar  \0"; 'v7' has no magic. */
  format?: 'ustar' | 'gnu' | 'v7'
  prefix?: string
  /** The name field's raw bytes, instead of `name` in UTF-8 (e.g. invalid UTF-8). */
  nameBytes?: Buffer
}

function field(block: Buffer, offset: number, length: number, value: string): void {
  Buffer.from(value, 'utf8').copy(block, offset, 0, length)
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`
}

/** One header block with a valid checksum. */
export function header(entry: RawEntry, size: number): Buffer {
  const block = Buffer.alloc(512)
  if (entry.nameBytes) entry.nameBytes.copy(block, 0, 0, 100)
  else field(block, 0, 100, entry.name)
  field(block, 100, 8, octal(entry.mode ?? 0o644, 8))
  field(block, 108, 8, octal(0, 8))
  field(block, 116, 8, octal(0, 8))
  field(block, 124, 12, octal(size, 12))
  field(block, 136, 12, octal(1, 12))
  field(block, 156, 1, entry.type ?? '0')
  const format = entry.format ?? 'ustar'
  if (format === 'ustar') field(block, 257, 8, 'ustar\u000000')
  if (format === 'gnu') field(block, 257, 8, 'ustar  \u0000')
  if (entry.prefix) field(block, 345, 155, entry.prefix)
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  field(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  return block
}

function padded(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512
  return Buffer.concat([data, Buffer.alloc(pad)])
}

/** The blocks of one entry: header and padded data. */
export function rawEntry(entry: RawEntry): Buffer {
  const data = Buffer.from(entry.data ?? '')
  return Buffer.concat([header(entry, data.length), padded(data)])
}

/** A pax extended header record block for the next entry. */
export function paxEntry(records: Record<string, string>): Buffer {
  let body = ''
  for (const [key, value] of Object.entries(records)) {
    const tail = ` ${key}=${value}\n`
    let length = tail.length + 1
    while (`${length}${tail}`.length !== length) length++
    body += `${length}${tail}`
  }
  return rawEntry({ name: 'PaxHeader', type: 'x', data: body })
}

/** A gzipped tar of the given entry blocks, the end marker, then `after` (default nothing). */
export function rawTgz(blocks: Buffer[], after: Buffer = Buffer.alloc(0)): Buffer {
  return gzipSync(Buffer.concat([...blocks, Buffer.alloc(1024), after]))
}

/** A chart archive with the given files (name -> content), all under `top/`. */
export function chartTgz(top: string, files: Record<string, string>, extra: Buffer[] = []): Buffer {
  return rawTgz([
    ...Object.entries(files).map(([name, data]) => rawEntry({ name: `${top}/${name}`, data })),
    ...extra
  ])
}
