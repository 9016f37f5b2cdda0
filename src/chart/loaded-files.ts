import { gunzipChart, isGzip } from './archive.js'

/*
 * The files Helm loads from a chart archive (pkg/chart/loader/archive.go), read strictly. Helm
 * reads with Go's archive/tar and keeps every entry that is not a directory, whatever its type,
 * under its name without the first segment. A lenient reader (tar-stream) differs from Go's in
 * ways a hostile archive can use: it reads on past the end-of-archive blocks, applies global pax
 * headers, treats a type-'0' entry with directory mode bits as a file, drops types it does not
 * know. So this reader accepts only what Helm and this action write (ustar or GNU headers, regular
 * files and directories, one pax or GNU long-name record per entry) and refuses everything else:
 * an archive it refuses is never "the same content".
 */

/** A name from an archive as a log may show it: control characters escaped, at most 200 characters. */
function printable(name: string): string {
  const escaped = name.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
  return escaped.length > 200 ? `${escaped.slice(0, 200)}...` : escaped
}

/** Why an archive is not compared: the entry ('' for the whole archive), printable, and the rule. */
export class NotComparable extends Error {
  readonly entry: string

  constructor(
    entry: string,
    readonly rule: string
  ) {
    const shown = printable(entry)
    super(shown ? `${shown} is ${rule}` : `the archive holds ${rule}`)
    this.name = 'NotComparable'
    this.entry = shown
  }
}

export interface LoadedChart {
  /** The first segment every entry shares (Helm ignores it; a chart's archive names its chart). */
  top: string
  /** Path below the top directory -> content, as Helm loads it. */
  files: Map<string, Buffer>
}

const BLOCK = 512
const utf8 = new TextDecoder('utf-8', { fatal: true })

function decode(bytes: Buffer): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw new NotComparable('', 'a name that is not UTF-8')
  }
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length)
  const end = field.indexOf(0)
  return decode(end < 0 ? field : field.subarray(0, end))
}

/** An octal number field (spaces or NULs around it); base-256 and garbage are refused. */
function octal(block: Buffer, start: number, length: number, entry: string): number {
  const raw = block
    .subarray(start, start + length)
    .toString('latin1')
    .replace(/^[ ]+|[ \0]+$/g, '')
  if (!/^[0-7]*$/.test(raw)) throw new NotComparable(entry, 'a header field is not octal')
  return raw === '' ? 0 : parseInt(raw, 8)
}

function checksumOk(block: Buffer): boolean {
  const stored = parseInt(
    block
      .subarray(148, 156)
      .toString('latin1')
      .replace(/[ \0]+$/, ''),
    8
  )
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]
    unsigned += byte
    signed += byte > 127 ? byte - 256 : byte
  }
  return stored === unsigned || stored === signed
}

function isZero(data: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (data[i] !== 0) return false
  return true
}

/** Pax records (`LEN key=value\n`); only a path, times and owners are accepted. */
function paxPath(data: Buffer, entry: string): string | undefined {
  let rest = data
  let name: string | undefined
  while (rest.length > 0) {
    const space = rest.indexOf(0x20)
    const length = Number(rest.subarray(0, space).toString('latin1'))
    if (space <= 0 || !Number.isSafeInteger(length) || length > rest.length || length <= space) {
      throw new NotComparable(entry, 'a malformed pax header')
    }
    const record = decode(rest.subarray(space + 1, length))
    const eq = record.indexOf('=')
    if (!record.endsWith('\n') || eq <= 0) throw new NotComparable(entry, 'a malformed pax header')
    const key = record.slice(0, eq)
    if (key === 'path') name = record.slice(eq + 1, -1)
    else if (!/^(mtime|atime|ctime|uid|gid|uname|gname|comment)$/.test(key)) {
      throw new NotComparable(entry, `a pax header with "${key}"`)
    }
    rest = rest.subarray(length)
  }
  return name
}

/** Helm's name for an entry: every segment checked, the first (the top directory) split off. */
function splitName(name: string, directory: boolean): { top: string; rest: string } {
  const rule = (why: string) => new NotComparable(name, why)
  if (name.includes('\\')) throw rule('a name with a backslash')
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw rule('a name with a control character')
  if (name.startsWith('/')) throw rule('an absolute name')
  const segments = name.replace(/\/$/, '').split('/')
  if (segments.some(s => s === '' || s === '.' || s === '..')) {
    throw rule('a name with an empty, "." or ".." segment')
  }
  if (segments.length < 2 && !directory) throw rule('an entry outside the top directory')
  return { top: segments[0], rest: segments.slice(1).join('/') }
}

const TYPES: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a named pipe',
  '7': 'a contiguous file (type 7), which Helm loads as a file',
  g: 'a global pax header',
  K: 'a GNU long link name',
  S: 'a GNU sparse file'
}

/** The files of a gzipped chart archive as Helm loads them; throws NotComparable. */
export async function loadedFiles(gz: Buffer, what: string): Promise<LoadedChart> {
  if (!isGzip(gz)) throw new NotComparable('', 'no gzip stream, which Helm cannot load')
  const tar = await gunzipChart(gz, what)
  const files = new Map<string, Buffer>()
  const seen = new Set<string>()
  let top: string | undefined
  let longName: string | undefined
  let offset = 0
  for (;;) {
    if (offset + BLOCK > tar.length) throw new NotComparable('', 'a truncated tar stream')
    const block = tar.subarray(offset, offset + BLOCK)
    if (isZero(block, 0, BLOCK)) {
      // Go stops at the end marker; whatever follows must be padding, or readers disagree.
      if (longName !== undefined) throw new NotComparable('', 'a long-name record with no entry')
      if (!isZero(tar, offset, tar.length)) {
        throw new NotComparable('', 'data after the end-of-archive marker, which Helm never reads')
      }
      break
    }
    if (!checksumOk(block)) throw new NotComparable('', 'a tar header with a bad checksum')
    const magic = block.subarray(257, 265).toString('latin1')
    const ustar = magic === 'ustar\u000000'
    if (!ustar && magic !== 'ustar  \u0000') {
      throw new NotComparable('', 'a tar header that is neither ustar nor GNU')
    }
    if (ustar && !isZero(block, 500, BLOCK)) {
      throw new NotComparable('', 'a tar header with data in its padding (star format)')
    }
    const prefix = ustar ? text(block, 345, 155) : ''
    const rawName = text(block, 0, 100)
    const name = longName ?? (prefix ? `${prefix}/${rawName}` : rawName)
    const type = String.fromCharCode(block[156] || 0x30)
    const mode = octal(block, 100, 8, name)
    const size = octal(block, 124, 12, name)
    const dataStart = offset + BLOCK
    const dataEnd = dataStart + size
    if (dataEnd > tar.length) throw new NotComparable(name, 'a truncated entry')
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK
    const data = tar.subarray(dataStart, dataEnd)
    if (type === 'x' || type === 'L') {
      if (longName !== undefined) throw new NotComparable(name, 'two long-name records')
      longName = type === 'L' ? text(data, 0, data.length) : paxPath(data, name)
      if (longName === undefined) throw new NotComparable(name, 'a pax header with no path')
      continue
    }
    longName = undefined
    const fileType = mode & 0o170000
    if (type === '5') {
      if (size !== 0) throw new NotComparable(name, 'a directory with data')
      if (fileType !== 0 && fileType !== 0o040000) {
        throw new NotComparable(name, 'a directory whose mode says otherwise')
      }
    } else if (type !== '0') {
      throw new NotComparable(name, TYPES[type] ?? `an entry of type "${type}"`)
    } else if (fileType !== 0 && fileType !== 0o100000) {
      throw new NotComparable(name, 'a file whose mode bits say it is not a regular file')
    } else if (block[156] === 0 && name.endsWith('/')) {
      throw new NotComparable(name, 'an old-style directory entry')
    }
    const parts = splitName(name, type === '5')
    if (parts.rest === '') {
      // The top directory's own entry (`tar czf web.tgz web/` writes one).
      if (top === undefined || top === parts.top) {
        top = parts.top
        continue
      }
    }
    if (top === undefined) top = parts.top
    else if (parts.top !== top) {
      throw new NotComparable(name, `a second top directory (the first is "${top}")`)
    }
    if (seen.has(parts.rest)) throw new NotComparable(name, 'a path that appears twice')
    seen.add(parts.rest)
    if (type === '0') files.set(parts.rest, Buffer.from(data))
  }
  if (top === undefined) throw new NotComparable('', 'no files')
  return { top, files }
}
