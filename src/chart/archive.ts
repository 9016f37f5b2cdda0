import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import * as tar from 'tar-stream'
import { UserError, errorMessage } from '../errors.js'

/* Chart archives (.tgz) in memory: reading their entries, and writing them back. */

export type EntryType = 'file' | 'directory' | 'symlink' | 'link'

export interface ArchiveEntry {
  name: string
  type: EntryType
  mode: number
  mtime: number
  uid: number
  gid: number
  uname: string
  gname: string
  linkname?: string
  data: Buffer
}

const gunzip = promisify(zlib.gunzip)

/** Largest chart Helm loads (its MaxDecompressedChartSize default, 100 MiB). */
export const MAX_UNPACKED_BYTES = 100 * 1024 * 1024

function isGzip(data: Buffer): boolean {
  return data.length > 2 && data[0] === 0x1f && data[1] === 0x8b
}

/**
 * The tar inside a chart archive (`gz` itself when it is not gzipped), at most Helm's limit: a
 * larger one (a decompression bomb) fails in one line naming `what` (the chart and where it is).
 */
export async function gunzipChart(
  gz: Buffer,
  what: string,
  fix = 'make the chart smaller.'
): Promise<Buffer> {
  if (!isGzip(gz)) return gz
  try {
    return await gunzip(gz, { maxOutputLength: MAX_UNPACKED_BYTES })
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new UserError(
        `${what} unpacks to more than ${MAX_UNPACKED_BYTES / 1024 / 1024} MiB, more than Helm loads (a decompression bomb?): ${fix}`
      )
    }
    throw new UserError(`${what} is not a readable gzip archive (${errorMessage(error)}): ${fix}`)
  }
}

/** Every entry of a gzipped tar, in archive order; pax and GNU long-name records are folded in. */
export async function readArchive(gz: Buffer, what = 'The chart archive'): Promise<ArchiveEntry[]> {
  const raw = await gunzipChart(gz, what)
  const extract = tar.extract()
  const entries: ArchiveEntry[] = []
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = []
      for await (const chunk of entry) chunks.push(chunk as Buffer)
      const h = entry.header
      const type = h.type ?? 'file'
      if (type !== 'file' && type !== 'directory' && type !== 'symlink' && type !== 'link') {
        continue // devices and fifos have no place in a chart; Helm never writes them
      }
      entries.push({
        name: h.name,
        type,
        mode: h.mode ?? 0o644,
        mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        uname: h.uname ?? '',
        gname: h.gname ?? '',
        linkname: h.linkname ?? undefined,
        data: Buffer.concat(chunks)
      })
    }
  })()
  Readable.from([raw]).pipe(extract)
  await done
  return entries
}

/** A tar of the entries, in the order given (tar-stream's ustar, pax for long names). */
export async function writeTar(entries: ArchiveEntry[]): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer)
  })()
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name: e.name,
          type: e.type,
          mode: e.mode,
          mtime: new Date(e.mtime * 1000),
          uid: e.uid,
          gid: e.gid,
          uname: e.uname,
          gname: e.gname,
          ...(e.linkname ? { linkname: e.linkname } : {}),
          size: e.type === 'file' ? e.data.length : 0
        },
        e.type === 'file' ? e.data : Buffer.alloc(0),
        error => (error ? reject(error) : resolve())
      )
    })
  }
  pack.finalize()
  await collected
  return Buffer.concat(chunks)
}

export { isGzip }
