/**
 * A local get.helm.sh: serves real Helm release archives, built from the binaries in
 * helm-binaries.ts, in the official layout, with fault switches for installer tests.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { chmod, copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip, gunzipSync, gzipSync } from 'node:zlib'
import type { TestCerts } from './certs.js'
import { helmBinary } from './helm-binaries.js'
import { closeServer } from './net-util.js'
import { CACHE_DIR } from './paths.js'
import { memoizeAsync } from './memo.js'

export const HELM_MIRROR_DIR = path.join(CACHE_DIR, 'helm-mirror')

export interface HelmArchive {
  version: string
  /** `helm-vX.Y.Z-linux-amd64.tar.gz` */
  fileName: string
  file: string
  sha256: string
  size: number
}

export interface HelmMirrorFaults {
  /**
   * Serve other bytes for this version's archive: a valid tar.gz with the same files, recompressed,
   * so only a checksum verification notices (its .sha256sum / .sha256 stay the original).
   */
  tamper(version: string): void
  /** The next download of this version's archive sends the full Content-Length, half the body, then drops the connection. */
  truncateOnce(version: string): void
  /** The next request for exactly this path (query ignored) answers 500. */
  error500Once(urlPath: string): void
  clear(): void
}

export interface HelmMirror {
  /**
   * The helm-download-url input (no trailing slash): `https://127.0.0.1:PORT` when started with
   * certs (the action refuses http:// without helm-sha256), else the plain-HTTP URL.
   */
  url: string
  /** `http://127.0.0.1:PORT`: the same mirror in plain HTTP (pinned installs, test fetches). */
  httpUrl: string
  /** Every request path (without query string), in order. */
  readonly requests: string[]
  /** GET requests answered 200 (including truncated and tampered ones), per path. */
  downloads(): Record<string, number>
  archives: Record<string, HelmArchive>
  faults: HelmMirrorFaults
  stop(): Promise<void>
}

export function archiveName(version: string): string {
  return `helm-v${version.replace(/^v/, '')}-linux-amd64.tar.gz`
}

/** Builds (once, cached under .cache/helm-mirror/) the release archive of a Helm version. */
export function helmArchive(version: string): Promise<HelmArchive> {
  return buildArchiveOnce(version.replace(/^v/, ''))
}

const buildArchiveOnce = memoizeAsync(version => buildArchive(version))

async function buildArchive(version: string): Promise<HelmArchive> {
  const fileName = archiveName(version)
  const file = path.join(HELM_MIRROR_DIR, fileName)
  const sumFile = `${file}.sha256`
  try {
    const [sha256, st] = await Promise.all([readFile(sumFile, 'utf8'), stat(file)])
    if (/^[0-9a-f]{64}$/.test(sha256.trim())) {
      return { version, fileName, file, sha256: sha256.trim(), size: st.size }
    }
  } catch {
    // not built yet
  }
  const unique = `${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}`
  const staging = path.join(HELM_MIRROR_DIR, `staging-${version}-${unique}`)
  const tmp = `${file}.${unique}.tmp`
  try {
    const dir = path.join(staging, 'linux-amd64')
    await mkdir(dir, { recursive: true })
    await copyFile(await helmBinary(version), path.join(dir, 'helm'))
    await writeFile(path.join(dir, 'LICENSE'), 'Apache License 2.0 (test mirror copy)\n')
    await writeFile(path.join(dir, 'README.md'), `Helm v${version} (test mirror)\n`)
    await chmod(path.join(dir, 'helm'), 0o755)
    const tar = spawn(
      'tar',
      ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', 'linux-amd64'],
      { cwd: staging, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let tarErr = ''
    tar.stderr.on('data', (c: Buffer) => (tarErr += c.toString()))
    const tarExit = new Promise<number | null>(resolve => tar.on('close', code => resolve(code)))
    await pipeline(tar.stdout, createGzip({ level: 6 }), createWriteStream(tmp))
    const code = await tarExit
    if (code !== 0) throw new Error(`tar failed (${code}): ${tarErr}`)
    const sha256 = await sha256File(tmp)
    await rename(tmp, file)
    await writeFile(`${sumFile}.${unique}`, `${sha256}\n`)
    await rename(`${sumFile}.${unique}`, sumFile)
    return { version, fileName, file, sha256, size: (await stat(file)).size }
  } finally {
    await rm(staging, { recursive: true, force: true })
    await rm(tmp, { force: true })
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}

/** Builds the archives of every listed version (used by the vitest global setup). */
export async function prepareHelmArchives(versions: readonly string[]): Promise<void> {
  await Promise.all(versions.map(v => helmArchive(v)))
}

export interface StartHelmMirrorOptions {
  versions: readonly string[]
  /** Also serve HTTPS with this certificate (then `url` is the HTTPS one). */
  certs?: TestCerts
  latest?: { all?: string; v3?: string; v4?: string }
}

export async function startHelmMirror(opts: StartHelmMirrorOptions): Promise<HelmMirror> {
  const archives: Record<string, HelmArchive> = {}
  for (const a of await Promise.all(opts.versions.map(v => helmArchive(v)))) {
    archives[a.fileName] = a
  }
  const latestAll = opts.latest?.all ?? 'v4.1.4'
  const latest3 = opts.latest?.v3 ?? 'v3.18.0'
  const latest4 = opts.latest?.v4 ?? 'v4.1.4'
  const texts: Record<string, string> = {
    '/helm-latest-version': `${latestAll}\n`,
    '/helm3-latest-version': `${latest3}\n`,
    '/helm4-latest-version': `${latest4}\n`
  }
  for (const a of Object.values(archives)) {
    texts[`/${a.fileName}.sha256sum`] = `${a.sha256}  ${a.fileName}\n`
    texts[`/${a.fileName}.sha256`] = `${a.sha256}\n`
  }

  const requests: string[] = []
  const downloadCounts: Record<string, number> = {}
  const tampered = new Set<string>()
  const truncate = new Set<string>()
  const error500 = new Set<string>()

  const handler: http.RequestListener = (req, res) => {
    const urlPath = decodeURIComponent((req.url ?? '/').split('?')[0])
    requests.push(urlPath)
    const countDownload = (): void => {
      if (req.method === 'GET') downloadCounts[urlPath] = (downloadCounts[urlPath] ?? 0) + 1
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end()
      return
    }
    if (error500.delete(urlPath)) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('injected fault\n')
      return
    }
    const text = texts[urlPath]
    if (text !== undefined) {
      countDownload()
      res.writeHead(200, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(text)
      })
      res.end(req.method === 'HEAD' ? undefined : text)
      return
    }
    const archive = archives[urlPath.slice(1)]
    if (!archive) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    countDownload()
    void serveArchive(req, res, archive).catch(() => res.destroy())
  }
  const server = http.createServer(handler)
  const tlsServer = opts.certs
    ? https.createServer(
        {
          cert: await readFile(opts.certs.certFile),
          key: await readFile(opts.certs.keyFile)
        },
        handler
      )
    : undefined

  const tamperedCache = new Map<string, Buffer>()
  /** A valid archive with the same files but other bytes (recompressed), so only a checksum check can tell. */
  async function tamperedBytes(archive: HelmArchive): Promise<Buffer> {
    let bytes = tamperedCache.get(archive.version)
    if (!bytes) {
      bytes = gzipSync(gunzipSync(await readFile(archive.file)), { level: 1 })
      tamperedCache.set(archive.version, bytes)
    }
    return bytes
  }

  async function serveArchive(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    archive: HelmArchive
  ): Promise<void> {
    const headers = {
      'content-type': 'application/x-tar',
      'content-length': String(archive.size)
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, headers).end()
      return
    }
    if (tampered.has(archive.version)) {
      const bytes = await tamperedBytes(archive)
      res.writeHead(200, { ...headers, 'content-length': String(bytes.length) })
      res.end(bytes)
      return
    }
    if (truncate.delete(archive.version)) {
      res.writeHead(200, headers)
      res.flushHeaders()
      const half = Math.floor(archive.size / 2)
      const stream = createReadStream(archive.file, { start: 0, end: half - 1 })
      stream.on('data', chunk => res.write(chunk))
      stream.on('end', () => setTimeout(() => res.socket?.destroy(), 50))
      stream.on('error', () => res.destroy())
      return
    }
    res.writeHead(200, headers)
    await pipeline(createReadStream(archive.file), res)
  }

  const listen = (srv: net.Server): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port))
    })
  const httpUrl = `http://127.0.0.1:${await listen(server)}`
  const url = tlsServer ? `https://127.0.0.1:${await listen(tlsServer)}` : httpUrl

  return {
    url,
    httpUrl,
    requests,
    downloads: () => ({ ...downloadCounts }),
    archives: Object.fromEntries(Object.values(archives).map(a => [a.version, a])),
    faults: {
      tamper: v => void tampered.add(v.replace(/^v/, '')),
      truncateOnce: v => void truncate.add(v.replace(/^v/, '')),
      error500Once: p => void error500.add(p.startsWith('/') ? p : `/${p}`),
      clear: () => {
        tampered.clear()
        truncate.clear()
        error500.clear()
      }
    },
    stop: async () => {
      await Promise.all([closeServer(server), tlsServer ? closeServer(tlsServer) : undefined])
    }
  }
}
