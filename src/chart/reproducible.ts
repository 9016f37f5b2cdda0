import * as exec from '@actions/exec'
import * as fs from 'node:fs/promises'
import * as zlib from 'node:zlib'
import { childEnv, isToolVariable } from '../runtime/child-env.js'
import { UserError } from '../errors.js'
import { isGzip, readArchive, writeTar, type ArchiveEntry } from './archive.js'

/*
 * Reproducible chart archives: the same chart sources give the same bytes whatever the file
 * mtimes, the day, the runner user or Helm's own clock (Helm 3 stamps entries with time.Now(),
 * Helm 4 with file mtimes, Helm 3.15+ turns the .tgz mtime into the manifest's "created").
 */

/** Used when SOURCE_DATE_EPOCH is unset and the chart is not in a git checkout: 1980-01-01T00:00:00Z. */
export const FALLBACK_EPOCH = 315532800

/** Largest mtime an 11-digit octal ustar header holds. */
const MAX_EPOCH = 0o77777777777

export interface SourceEpoch {
  seconds: number
  /** Where it came from, for the log. */
  from: 'SOURCE_DATE_EPOCH' | 'git' | 'fallback'
}

/** SOURCE_DATE_EPOCH as the reproducible-builds spec defines it: whole seconds, decimal digits. */
export function parseSourceDateEpoch(value: string): number {
  const v = value.trim()
  const n = Number(v)
  if (!/^\d{1,11}$/.test(v) || n > MAX_EPOCH) {
    throw new UserError(
      `SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 such as "1700000000" (got "${value}"): set it from "git log -1 --format=%ct", or unset it.`
    )
  }
  return n
}

/** git's environment: the allow-listed one of every child process but HELM_*, no pager or prompt. */
export function gitEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return childEnv(
    env,
    {
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_PAGER: 'cat',
      GIT_OPTIONAL_LOCKS: '0'
    },
    isToolVariable
  )
}

/** Commit time of HEAD of the checkout holding `dir`, or undefined (no git, not a checkout). */
export async function commitTime(dir: string): Promise<number | undefined> {
  try {
    const result = await exec.getExecOutput('git', ['log', '-1', '--format=%ct'], {
      cwd: dir,
      env: gitEnv(),
      ignoreReturnCode: true,
      silent: true
    })
    const seconds = result.stdout.trim()
    return result.exitCode === 0 && /^\d+$/.test(seconds) ? Number(seconds) : undefined
  } catch {
    return undefined // git is not installed
  }
}

/**
 * The timestamp archives get: SOURCE_DATE_EPOCH when set, else the commit time of the checkout
 * (works in shallow clones), else FALLBACK_EPOCH. Memoised per directory.
 */
export function sourceEpochResolver(
  env: NodeJS.ProcessEnv = process.env,
  gitTime: (dir: string) => Promise<number | undefined> = commitTime
): (dir: string) => Promise<SourceEpoch> {
  const fromEnv = env.SOURCE_DATE_EPOCH
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const seconds = parseSourceDateEpoch(fromEnv)
    return async () => ({ seconds, from: 'SOURCE_DATE_EPOCH' })
  }
  const cache = new Map<string, Promise<SourceEpoch>>()
  return dir => {
    let known = cache.get(dir)
    if (!known) {
      known = gitTime(dir).then(seconds =>
        seconds === undefined
          ? { seconds: FALLBACK_EPOCH, from: 'fallback' as const }
          : { seconds: Math.min(seconds, MAX_EPOCH), from: 'git' as const }
      )
      cache.set(dir, known)
    }
    return known
  }
}

/** A chart archive nested under CHART/charts/ (a packaged dependency). */
const NESTED_CHART = /^[^/]+\/charts\/[^/]+\.tgz$/

/** A chart's lock file (the top chart's, at each archive level). */
const LOCK_FILE = /^[^/]+\/(Chart|requirements)\.lock$/

/**
 * Chart.lock with `generated:` set to the epoch: `helm dependency update` stamps the current time
 * there (every Helm version), so without a committed lock each run would make other bytes.
 */
export function stampLock(data: Buffer, epoch: number): Buffer {
  const stamp = new Date(epoch * 1000).toISOString().replace('.000Z', 'Z')
  return Buffer.from(
    data.toString('utf8').replace(/^generated:[^\n]*$/m, `generated: "${stamp}"`),
    'utf8'
  )
}

/** File modes: 0755 when any execute bit is set, else 0644; directories 0755; links 0777. */
function normalMode(entry: ArchiveEntry): number {
  if (entry.type === 'directory') return 0o755
  if (entry.type === 'symlink') return 0o777
  return entry.mode & 0o111 ? 0o755 : 0o644
}

/** Chart.yaml of the top chart first (where Helm puts it), then every other entry by path. */
function entryOrder(a: ArchiveEntry, b: ArchiveEntry): number {
  const rank = (e: ArchiveEntry) => (/^[^/]+\/Chart\.yaml$/.test(e.name) ? 0 : 1)
  return rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}

/**
 * Gzip with a fixed header: mtime 0, no name, XFL 0, OS 255 ("unknown"), so the bytes do not
 * depend on the platform's zlib OS code. Deflate at level 9 by the runtime's zlib.
 */
export function deterministicGzip(data: Buffer): Buffer {
  const gz = zlib.gzipSync(data, { level: 9, memLevel: 8, windowBits: 15, strategy: 0 })
  gz.writeUInt32LE(0, 4) // MTIME
  gz[8] = 0 // XFL
  gz[9] = 0xff // OS
  return gz
}

/**
 * The archive rewritten deterministically: entries in a stable order with mtime = epoch, uid/gid
 * 0, empty user and group names, normalised modes, the same entry types and contents (but the
 * lock's `generated:` time, see stampLock); nested
 * dependency archives under charts/ likewise (depth-limited); a fixed gzip header.
 */
export async function normaliseArchive(gz: Buffer, epoch: number, depth = 0): Promise<Buffer> {
  const entries = await readArchive(gz)
  const normal: ArchiveEntry[] = []
  for (const e of entries) {
    let data = e.data
    if (depth < 4 && e.type === 'file' && NESTED_CHART.test(e.name) && isGzip(data)) {
      data = await normaliseArchive(data, epoch, depth + 1)
    }
    if (e.type === 'file' && LOCK_FILE.test(e.name)) data = stampLock(data, epoch)
    normal.push({
      name: e.type === 'directory' && !e.name.endsWith('/') ? `${e.name}/` : e.name,
      type: e.type,
      mode: normalMode(e),
      mtime: epoch,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      linkname: e.linkname,
      data
    })
  }
  normal.sort(entryOrder)
  return deterministicGzip(await writeTar(normal))
}

/**
 * Rewrites a packaged chart in place (a file in the job-private directory, never the user's
 * workspace) and sets its mtime to the epoch, which Helm 3.15+ turns into the manifest's
 * org.opencontainers.image.created annotation.
 */
export async function makeReproducible(archive: string, epoch: number): Promise<void> {
  const normal = await normaliseArchive(await fs.readFile(archive), epoch)
  await fs.writeFile(archive, normal)
  await fs.utimes(archive, epoch, epoch)
}
