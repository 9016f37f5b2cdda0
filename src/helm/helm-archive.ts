import * as exec from '@actions/exec'
import { createReadStream, createWriteStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { extract } from 'tar-stream'
import { childEnv, isToolVariable } from '../runtime/child-env.js'

const CHUNK_BYTES = 1 << 20

/*
 * Takes the Helm executable out of a verified release archive. @actions/tool-cache's extractTar
 * spawns tar and gzip with the whole process environment, which holds the AWS credentials the SDK
 * needs (they cannot leave process.env); so .tar.gz is read in process. Only the one member the
 * installer needs is written, at a path we build ourselves, so the archive's own names, links and
 * modes never reach the disk.
 */

/** Larger than any Helm binary (about 60 MB in 2026); a bigger member is not Helm. */
const MAX_MEMBER_BYTES = 512 * 1024 * 1024

/** Member names as tar writes them: `linux-amd64/helm` or `./linux-amd64/helm`. */
function memberName(name: string): string {
  return name.replace(/^(\.\/)+/, '')
}

/** Counts the bytes that pass and fails past `limit`, whatever the header claimed. */
function limitBytes(limit: number, member: string): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length
      if (seen > limit) done(new Error(`${member} is larger than ${limit} bytes`))
      else done(null, chunk)
    }
  })
}

/**
 * Extracts the regular file `member` (e.g. `linux-amd64/helm`) of the .tar.gz `archive` into
 * `destination/member`, executable. Returns the written path, or undefined when the archive has no
 * such regular file (a link or device of that name does not count).
 */
export async function extractTarGzMember(
  archive: string,
  destination: string,
  member: string
): Promise<string | undefined> {
  const target = path.join(destination, ...member.split('/'))
  const entries = extract()
  // 1 MiB reads and inflate chunks: with Node's 64 KiB/16 KiB defaults this took 530 ms for the
  // 18.7 MiB Helm 4.1.4 archive, 1.5x `tar xzf`; with them about 185 ms (measured here).
  const reading = pipeline(
    createReadStream(archive, { highWaterMark: CHUNK_BYTES }),
    createGunzip({ chunkSize: CHUNK_BYTES }),
    entries
  )
  reading.catch(() => undefined) // awaited below
  // A truncated or corrupt archive fails the read; a member being written would wait forever.
  const readFailed = reading.then(() => new Promise<never>(() => {}))
  readFailed.catch(() => undefined)
  let written: string | undefined
  for await (const entry of entries) {
    const { name, type, size } = entry.header
    if (written || type !== 'file' || memberName(name) !== member) {
      entry.resume()
      continue
    }
    if ((size ?? 0) > MAX_MEMBER_BYTES) {
      throw new Error(`${member} in ${path.basename(archive)} is ${size} bytes: not a Helm binary`)
    }
    await fs.mkdir(path.dirname(target), { recursive: true })
    // wx: never write through a file or link that is already there.
    await Promise.race([
      pipeline(
        entry,
        limitBytes(MAX_MEMBER_BYTES, member),
        createWriteStream(target, { flags: 'wx', mode: 0o755 })
      ),
      readFailed
    ])
    written = target
  }
  await reading
  return written
}

/**
 * Windows: Helm ships a .zip. Node has no zip reader and the bundle carries none, so Windows' own
 * bsdtar (%SystemRoot%\System32\tar.exe, on every Windows 10 1803+ and Server 2019+ runner) reads
 * it, started with the allow-listed environment and asked for the one member. bsdtar refuses
 * absolute names and `..` by default.
 */
export async function extractZipMember(
  archive: string,
  destination: string,
  member: string
): Promise<string | undefined> {
  const systemRoot = process.env.SystemRoot ?? process.env.SYSTEMROOT ?? 'C:\\Windows'
  const tar = path.join(systemRoot, 'System32', 'tar.exe')
  await fs.mkdir(destination, { recursive: true })
  const result = await exec.getExecOutput(tar, ['-xf', archive, '-C', destination, member], {
    ignoreReturnCode: true,
    silent: true,
    env: childEnv(process.env, {}, isToolVariable)
  })
  if (result.exitCode !== 0) return undefined
  const target = path.join(destination, ...member.split('/'))
  const stat = await fs.lstat(target).catch(() => undefined)
  return stat?.isFile() ? target : undefined
}
