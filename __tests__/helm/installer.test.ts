import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs/promises'
import * as http from 'node:http'
import * as https from 'node:https'
import type { AddressInfo } from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, test, vi } from 'vitest'
import {
  entriesFor,
  tarGzArchive,
  unzipTo,
  zipArchive,
  zipEntryNames
} from '../../__fixtures__/archives.js'
import * as tc from '@actions/tool-cache'
import * as core from '../../__fixtures__/core.js'
import { rejection } from '../../__fixtures__/rejection.js'
import release from '../fixtures/helm-release-archives.json' with { type: 'json' }
import { makeTestCerts } from '../../testbed/certs.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { extractHelmExecutable, installHelm, parseChecksumFile, resolveHelmVersion, sha256File } =
  await import('../../src/helm/installer.js')
const { UserError } = await import('../../src/errors.js')
const { helmArchiveName, helmPlatform } = await import('../../src/helm/platform.js')

interface Route {
  status: number
  body: string | Buffer
}

/** A tiny get.helm.sh: `routes` by path (query ignored); every request path is recorded. */
const routes = new Map<string, Route>()
const requests: string[] = []
let server: http.Server
let baseUrl: string
let tmp: string
let archive: Buffer
let archiveSha: string

const platform = helmPlatform()
const supported = process.platform !== 'win32'

function serveRelease(version: string, sha = archiveSha, body: Buffer = archive): string {
  const name = helmArchiveName(version, platform)
  routes.set(`/${name}`, { status: 200, body })
  routes.set(`/${name}.sha256sum`, { status: 200, body: `${sha}  ${name}\n` })
  return name
}

async function listTree(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { recursive: true })).map(String)
  } catch {
    return []
  }
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'installer-test-'))
  // A fake Helm archive laid out like the official one: <os>-<arch>/helm.
  const src = path.join(tmp, 'archive-src')
  const bin = path.join(src, `${platform.os}-${platform.arch}`)
  await fs.mkdir(bin, { recursive: true })
  await fs.writeFile(path.join(bin, 'helm'), '#!/bin/sh\necho "v3.99.0+gfake"\n', { mode: 0o755 })
  await fs.writeFile(path.join(bin, 'LICENSE'), 'Apache-2.0\n')
  const tgz = path.join(tmp, 'helm.tar.gz')
  execFileSync('tar', ['-czf', tgz, '-C', src, `${platform.os}-${platform.arch}`])
  archive = await fs.readFile(tgz)
  archiveSha = createHash('sha256').update(archive).digest('hex')

  server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname
    requests.push(pathname)
    const route = routes.get(pathname)
    res.statusCode = route?.status ?? 404
    res.end(route?.body ?? 'not found')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise(resolve => server.close(resolve))
  await fs.rm(tmp, { recursive: true, force: true })
})

const savedEnv = {
  RUNNER_TOOL_CACHE: process.env.RUNNER_TOOL_CACHE,
  RUNNER_TEMP: process.env.RUNNER_TEMP
}

beforeEach(async () => {
  core.resetCore()
  routes.clear()
  requests.length = 0
  routes.set('/helm-latest-version', { status: 200, body: 'v4.1.4\n' })
  routes.set('/helm3-latest-version', { status: 200, body: 'v3.18.0\n' })
  routes.set('/helm4-latest-version', { status: 200, body: 'v4.1.4' })
  const run = await fs.mkdtemp(path.join(tmp, 'run-'))
  process.env.RUNNER_TOOL_CACHE = path.join(run, 'tool-cache')
  process.env.RUNNER_TEMP = path.join(run, 'temp')
  await fs.mkdir(process.env.RUNNER_TOOL_CACHE)
  await fs.mkdir(process.env.RUNNER_TEMP)
})

afterEach(() => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

describe('parseChecksumFile', () => {
  const hex = 'a'.repeat(64)
  test.each([
    [`${hex}  helm-v3.18.0-linux-amd64.tar.gz\n`, hex],
    [`${hex}\n`, hex],
    [hex, hex],
    [`  ${'AB'.repeat(32)}  helm.tar.gz`, 'ab'.repeat(32)],
    [`${hex} *helm.tar.gz\r\n`, hex],
    ['', undefined],
    ['<html>Not Found</html>', undefined],
    ['abc123  helm.tar.gz', undefined],
    [`${hex}ff  helm.tar.gz`, undefined]
  ])('%j -> %s', (text, digest) => {
    expect(parseChecksumFile(text)).toBe(digest)
  })
})

describe('sha256File', () => {
  it('hashes a file', async () => {
    const file = path.join(tmp, 'hello.txt')
    await fs.writeFile(file, 'hello\n')
    expect(await sha256File(file)).toBe(
      '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03'
    )
  })
})

describe('resolveHelmVersion', () => {
  test.each([
    [{ kind: 'latest' } as const, 'v4.1.4', '/helm-latest-version'],
    [{ kind: 'major', major: 3 } as const, 'v3.18.0', '/helm3-latest-version'],
    [{ kind: 'major', major: 4 } as const, 'v4.1.4', '/helm4-latest-version']
  ])('%j -> %s from %s', async (spec, version, file) => {
    expect(await resolveHelmVersion(spec, baseUrl)).toBe(version)
    expect(requests).toEqual([file])
  })

  it('returns an exact version without a request', async () => {
    expect(await resolveHelmVersion({ kind: 'exact', version: '3.18.0' }, baseUrl)).toBe('v3.18.0')
    expect(requests).toEqual([])
  })

  it('finds the version among blank lines and CRLF', async () => {
    routes.set('/helm3-latest-version', { status: 200, body: '\r\n  v3.17.3\r\n' })
    expect(await resolveHelmVersion({ kind: 'major', major: 3 }, baseUrl)).toBe('v3.17.3')
  })

  it('rejects a file that names another major version', async () => {
    routes.set('/helm3-latest-version', { status: 200, body: 'v4.0.0\n' })
    const error = await rejection(resolveHelmVersion({ kind: 'major', major: 3 }, baseUrl))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `${baseUrl}/helm3-latest-version names v4.0.0, not a Helm 3 release: set an exact "helm-version".`
    )
  })

  test.each(['<html>captive portal</html>', '', '3.18.0', 'v3.18'])(
    'rejects a file holding %j',
    async body => {
      routes.set('/helm-latest-version', { status: 200, body })
      const error = await rejection(resolveHelmVersion({ kind: 'latest' }, baseUrl))
      expect(error).toBeInstanceOf(UserError)
      expect(error.message).toBe(
        `${baseUrl}/helm-latest-version holds no Helm version: check "helm-download-url", or set an exact "helm-version".`
      )
    }
  )

  it('reports an HTTP error with the URL', async () => {
    routes.delete('/helm4-latest-version')
    const error = await rejection(resolveHelmVersion({ kind: 'major', major: 4 }, baseUrl))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toMatch(
      new RegExp(
        `^${baseUrl.replace(/\./g, '\\.')}/helm4-latest-version\\?ts=\\d+ answered HTTP 404 for the latest Helm 4: check "helm-version" and "helm-download-url"\\.$`
      )
    )
  })

  it('names no major version for "latest" in the HTTP error', async () => {
    routes.delete('/helm-latest-version')
    const error = await rejection(resolveHelmVersion({ kind: 'latest' }, baseUrl))
    expect(error.message).toMatch(
      /\?ts=\d+ answered HTTP 404 for the latest Helm: check "helm-version" and "helm-download-url"\.$/
    )
  })

  it('asks again after a 5xx from the mirror', async () => {
    let calls = 0
    const answers = [
      { status: 503, body: 'busy' },
      { status: 200, body: 'v3.18.0\n' }
    ]
    routes.set('/helm3-latest-version', {
      get status() {
        return answers[Math.min(calls, 1)].status
      },
      get body() {
        return answers[Math.min(calls++, 1)].body
      }
    })
    expect(await resolveHelmVersion({ kind: 'major', major: 3 }, baseUrl)).toBe('v3.18.0')
    expect(requests.filter(r => r === '/helm3-latest-version').length).toBeGreaterThanOrEqual(2)
  })

  it('does not ask again after a 404', async () => {
    routes.delete('/helm3-latest-version')
    await expect(resolveHelmVersion({ kind: 'major', major: 3 }, baseUrl)).rejects.toThrow(
      /answered HTTP 404/
    )
    expect(requests).toEqual(['/helm3-latest-version'])
  })

  it("names NODE_EXTRA_CA_CERTS when the mirror's certificate is not trusted", async () => {
    const certs = await makeTestCerts(path.join(tmp, 'certs'))
    const tlsServer = https.createServer(
      { cert: await fs.readFile(certs.certFile), key: await fs.readFile(certs.keyFile) },
      (_req, res) => res.end('v4.1.4\n')
    )
    await new Promise<void>(resolve => tlsServer.listen(0, '127.0.0.1', resolve))
    try {
      const url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`
      const error = await rejection(resolveHelmVersion({ kind: 'latest' }, url))
      expect(error).toBeInstanceOf(UserError)
      expect(error.message).toMatch(
        /^The TLS certificate of 127\.0\.0\.1:\d+ is not trusted \(.+\): behind a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS for the job to a PEM file with the proxy's CA; check "helm-download-url"\.$/
      )
    } finally {
      await new Promise(resolve => tlsServer.close(resolve))
    }
  })

  it('reports an unreachable mirror', async () => {
    const closed = http.createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise(resolve => closed.close(resolve))
    const error = await rejection(
      resolveHelmVersion({ kind: 'latest' }, `http://127.0.0.1:${port}`)
    )
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toMatch(
      /^Could not reach http:\/\/127\.0\.0\.1:\d+\/helm-latest-version\?ts=\d+ for the latest Helm.*: check "helm-download-url" and the runner's network or proxy\.$/
    )
  })
})

describe.runIf(supported)('installHelm', () => {
  it('downloads, verifies, extracts and caches; the second run comes from the cache', async () => {
    const name = serveRelease('v3.99.0')
    const first = await installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl)
    expect(first.fromCache).toBe(false)
    expect(first.version).toBe('v3.99.0')
    expect(first.path).toBe(
      path.join(process.env.RUNNER_TOOL_CACHE as string, 'helm', '3.99.0', os.arch(), 'helm')
    )
    expect(execFileSync(first.path, ['version']).toString().trim()).toBe('v3.99.0+gfake')
    expect(requests.sort()).toEqual([`/${name}`, `/${name}.sha256sum`])
    expect(core.info).toHaveBeenCalledWith(`Verified ${name} (sha256 ${archiveSha})`)
    // The downloaded archive is deleted; only tool-cache's extraction folder stays in RUNNER_TEMP
    // (the runner empties RUNNER_TEMP after the job).
    const temp = await fs.readdir(process.env.RUNNER_TEMP as string, { withFileTypes: true })
    expect(temp.filter(entry => !entry.isDirectory())).toEqual([])

    requests.length = 0
    const second = await installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl)
    expect(second).toEqual({ ...first, fromCache: true })
    expect(requests).toEqual([])
  })

  it('resolves "latest" then uses the cache with only the version file requested', async () => {
    routes.set('/helm-latest-version', { status: 200, body: 'v3.99.0\n' })
    serveRelease('v3.99.0')
    const first = await installHelm({ kind: 'latest' }, baseUrl)
    expect(first).toMatchObject({ version: 'v3.99.0', fromCache: false })

    requests.length = 0
    const second = await installHelm({ kind: 'latest' }, baseUrl)
    expect(second).toEqual({ ...first, fromCache: true })
    expect(requests).toEqual(['/helm-latest-version'])
  })

  it('refuses an archive whose checksum does not match and installs nothing', async () => {
    const wrong = 'f'.repeat(64)
    const name = serveRelease('v3.99.0', wrong)
    const error = await rejection(installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `Helm archive ${name} failed checksum verification (expected sha256 ${wrong}, got ${archiveSha}); nothing was installed: the download was corrupted or tampered with, check "helm-download-url".`
    )
    expect(error.message).not.toContain('\n')
    expect(await listTree(process.env.RUNNER_TOOL_CACHE as string)).toEqual([])
    expect(await listTree(process.env.RUNNER_TEMP as string)).toEqual([])
  })

  it('refuses a tampered archive served with the original checksum', async () => {
    serveRelease('v3.99.0', archiveSha, Buffer.concat([archive, Buffer.from('x')]))
    await expect(installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl)).rejects.toThrow(
      /failed checksum verification/
    )
    expect(await listTree(process.env.RUNNER_TOOL_CACHE as string)).toEqual([])
  })

  it('refuses a mirror without a usable .sha256sum', async () => {
    const name = serveRelease('v3.99.0')
    routes.set(`/${name}.sha256sum`, { status: 200, body: '<html>ok</html>' })
    const error = await rejection(installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl))
    expect(error.message).toBe(
      `${baseUrl}/${name}.sha256sum holds no SHA-256 digest: the mirror in "helm-download-url" must publish .sha256sum files as get.helm.sh does, or pin the archive with "helm-sha256".`
    )
    expect(await listTree(process.env.RUNNER_TOOL_CACHE as string)).toEqual([])
    expect(await listTree(process.env.RUNNER_TEMP as string)).toEqual([])
  })

  it('reports a missing checksum file', async () => {
    const name = serveRelease('v3.99.0')
    routes.delete(`/${name}.sha256sum`)
    const error = await rejection(installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl))
    expect(error.message).toBe(
      `${baseUrl}/${name}.sha256sum answered HTTP 404 for the checksum of ${name}: check "helm-version" and "helm-download-url".`
    )
  })

  it('reports a version the mirror does not have', async () => {
    const name = helmArchiveName('v3.98.0', platform)
    routes.set(`/${name}.sha256sum`, { status: 200, body: `${archiveSha}  ${name}\n` })
    const error = await rejection(installHelm({ kind: 'exact', version: '3.98.0' }, baseUrl))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `Helm v3.98.0 is not at ${baseUrl}/${name} (HTTP 404): check "helm-version" and "helm-download-url".`
    )
  })

  it('refuses an archive without <os>-<arch>/helm', async () => {
    const src = path.join(tmp, 'odd-src')
    await fs.mkdir(path.join(src, 'other'), { recursive: true })
    await fs.writeFile(path.join(src, 'other', 'helm'), '#!/bin/sh\n')
    const tgz = path.join(tmp, 'odd.tar.gz')
    execFileSync('tar', ['-czf', tgz, '-C', src, 'other'])
    const odd = await fs.readFile(tgz)
    const name = serveRelease('v3.97.0', createHash('sha256').update(odd).digest('hex'), odd)
    const error = await rejection(installHelm({ kind: 'exact', version: '3.97.0' }, baseUrl))
    expect(error.message).toBe(
      `${name} has no ${platform.os}-${platform.arch}/helm: the mirror in "helm-download-url" must serve official Helm archives.`
    )
    expect(await listTree(path.join(process.env.RUNNER_TOOL_CACHE as string, 'helm'))).toEqual([])
  })

  it("checks the helm-sha256 pin instead of the mirror's .sha256sum", async () => {
    const name = serveRelease('v3.99.0', 'f'.repeat(64)) // a wrong .sha256sum is never read
    const installed = await installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl, {
      sha256: archiveSha
    })
    expect(installed.fromCache).toBe(false)
    expect(requests).toEqual([`/${name}`])
    expect(core.info).toHaveBeenCalledWith(
      `Verified ${name} (sha256 ${archiveSha}, pinned by helm-sha256)`
    )
  })

  it('refuses an archive that does not match the helm-sha256 pin and installs nothing', async () => {
    const name = serveRelease('v3.99.0') // the mirror's own checksum matches: the pin wins
    const pin = '0'.repeat(64)
    const error = await rejection(
      installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl, { sha256: pin })
    )
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `Helm archive ${name} does not match "helm-sha256" (expected ${pin}, got ${archiveSha}); nothing was installed: check "helm-sha256" and "helm-download-url".`
    )
    expect(await listTree(process.env.RUNNER_TOOL_CACHE as string)).toEqual([])
    expect(await listTree(process.env.RUNNER_TEMP as string)).toEqual([])
  })

  describe('helm-sha256 against a Helm already in the tool cache', () => {
    const cacheDir = () =>
      path.join(process.env.RUNNER_TOOL_CACHE as string, 'helm', '3.99.0', os.arch())

    it('a recorded digest other than the pin fails in one line and downloads nothing', async () => {
      serveRelease('v3.99.0')
      await installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl)
      expect(await fs.readFile(path.join(cacheDir(), 'helm-archive.sha256'), 'utf8')).toBe(
        `${archiveSha}  ${helmArchiveName('v3.99.0', platform)}\n`
      )
      requests.length = 0
      const pin = '0'.repeat(64)
      const error = await rejection(
        installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl, { sha256: pin })
      )
      expect(error).toBeInstanceOf(UserError)
      expect(error.message).toBe(
        `Helm 3.99.0 in the tool cache (${cacheDir()}) was installed from an archive with sha256 ${archiveSha}, not the "helm-sha256" pin ${pin}: check "helm-sha256" against the archive's .sha256sum on get.helm.sh, or clear the runner's tool cache.`
      )
      expect(requests).toEqual([])
    })

    it('a matching record uses the cache', async () => {
      serveRelease('v3.99.0')
      await installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl)
      requests.length = 0
      const again = await installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl, {
        sha256: archiveSha
      })
      expect(again.fromCache).toBe(true)
      expect(requests).toEqual([])
    })

    it('a cached Helm with no record (another tool cached it) is downloaded and checked against the pin', async () => {
      const name = serveRelease('v3.99.0')
      await fs.mkdir(cacheDir(), { recursive: true })
      await fs.writeFile(path.join(cacheDir(), 'helm'), '#!/bin/sh\necho planted\n', {
        mode: 0o755
      })
      await fs.writeFile(`${cacheDir()}.complete`, '')
      const installed = await installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl, {
        sha256: archiveSha
      })
      expect(installed.fromCache).toBe(false)
      expect(requests).toEqual([`/${name}`])
      expect(execFileSync(installed.path, ['version']).toString().trim()).toBe('v3.99.0+gfake')
      const pin = '0'.repeat(64)
      await expect(
        installHelm({ kind: 'exact', version: '3.99.0' }, baseUrl, { sha256: pin })
      ).rejects.toThrow(/was installed from an archive with sha256/)
    })
  })

  describe('behind a proxy that refuses', () => {
    const proxyVars = [
      'https_proxy',
      'HTTPS_PROXY',
      'http_proxy',
      'HTTP_PROXY',
      'no_proxy',
      'NO_PROXY'
    ]
    const saved: Record<string, string | undefined> = {}
    let refusing: http.Server
    let proxyPort: number
    beforeAll(async () => {
      // A proxy that answers every CONNECT with 403, as an allow-list proxy does.
      refusing = http.createServer((_req, res) => res.writeHead(403).end())
      refusing.on('connect', (_req, socket: import('node:net').Socket) => {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n')
      })
      await new Promise<void>(resolve => refusing.listen(0, '127.0.0.1', resolve))
      proxyPort = (refusing.address() as AddressInfo).port
    })
    afterAll(async () => {
      await new Promise(resolve => refusing.close(resolve))
    })
    beforeEach(() => {
      for (const name of proxyVars) {
        saved[name] = process.env[name]
        delete process.env[name]
      }
    })
    afterEach(() => {
      for (const name of proxyVars) {
        if (saved[name] === undefined) delete process.env[name]
        else process.env[name] = saved[name]
      }
    })

    it('names the proxy (without its credentials) and the host in one line', async () => {
      process.env.http_proxy = `http://ci:hunter2@127.0.0.1:${proxyPort}`
      // Loopback is never proxied, so the mirror gets a name that resolves to it.
      const url = baseUrl.replace('127.0.0.1', 'localhost.localdomain')
      // (The archive download itself is retried by tool-cache for ~30 s; the version file is not.)
      const error = await rejection(resolveHelmVersion({ kind: 'latest' }, url))
      expect(error).toBeInstanceOf(UserError)
      expect(error.message).toMatch(
        new RegExp(
          `^The proxy http://127\\.0\\.0\\.1:${proxyPort} refused the connection to localhost\\.localdomain:\\d+ \\(.*403.*\\): check HTTPS_PROXY/HTTP_PROXY, that the proxy allows localhost\\.localdomain:\\d+, and NO_PROXY for hosts to reach directly\\.$`
        )
      )
      expect(error.message).not.toContain('hunter2')
    })
  })
})

// The Windows and macOS install paths, run here on Linux: the platform is injected, the archives
// are built from the recorded listings of Helm's v4.1.4 release (fixtures/helm-release-archives.json),
// and the .zip is unpacked with yauzl where the runner would use PowerShell.
describe('installHelm for another platform', () => {
  const listings = release.archives as Record<string, string[]>
  const toolCache = (): string => process.env.RUNNER_TOOL_CACHE as string

  function serve(name: string, body: Buffer): string {
    const sha = createHash('sha256').update(body).digest('hex')
    routes.set(`/${name}`, { status: 200, body })
    routes.set(`/${name}.sha256sum`, { status: 200, body: `${sha}  ${name}\n` })
    return sha
  }

  /** Stands in for Windows' tar.exe: yauzl unzips the whole archive, the member is returned. */
  async function unzipAll(
    file: string,
    extension: 'zip' | 'tar.gz',
    member: string,
    destination: string
  ): Promise<string | undefined> {
    expect(extension).toBe('zip')
    await fs.mkdir(destination, { recursive: true })
    const target = path.join(await unzipTo(file, destination), ...member.split('/'))
    return (await fs.stat(target).catch(() => undefined)) ? target : undefined
  }

  function recordingUnzip() {
    const calls: string[] = []
    const extract = async (
      file: string,
      extension: 'zip' | 'tar.gz',
      member: string,
      destination: string
    ): Promise<string | undefined> => {
      calls.push(extension)
      expect(member).toBe('windows-amd64/helm.exe')
      expect(await zipEntryNames(file)).toEqual(listings['helm-v4.1.4-windows-amd64.zip'])
      return unzipAll(file, extension, member, destination)
    }
    return { calls, extract }
  }

  it('Windows x64: helm-v4.1.4-windows-amd64.zip, verified, unzipped, helm.exe cached', async () => {
    const name = 'helm-v4.1.4-windows-amd64.zip'
    const zip = zipArchive(entriesFor(listings[name]))
    const sha = serve(name, zip)
    const unzip = recordingUnzip()
    const options = { platform: helmPlatform('win32', 'x64'), extract: unzip.extract }

    const first = await installHelm({ kind: 'exact', version: '4.1.4' }, baseUrl, options)
    expect(requests.sort()).toEqual([`/${name}`, `/${name}.sha256sum`])
    expect(core.info).toHaveBeenCalledWith(`Verified ${name} (sha256 ${sha})`)
    expect(unzip.calls).toEqual(['zip'])
    expect(first).toEqual({
      path: path.join(toolCache(), 'helm', '4.1.4', 'x64', 'helm.exe'),
      version: 'v4.1.4',
      fromCache: false
    })
    expect(await fs.readFile(first.path, 'utf8')).toBe('fake helm.exe for windows-amd64/helm.exe\n')
    expect((await fs.readdir(path.dirname(first.path))).sort()).toEqual([
      'LICENSE',
      'README.md',
      'helm-archive.sha256',
      'helm.exe'
    ])

    requests.length = 0
    const second = await installHelm({ kind: 'exact', version: '4.1.4' }, baseUrl, options)
    expect(second).toEqual({ ...first, fromCache: true })
    expect(requests).toEqual([])
    expect(unzip.calls).toEqual(['zip'])
  })

  it('Windows arm64 with "latest": the arm64 zip, cached under arm64', async () => {
    const name = 'helm-v4.1.4-windows-arm64.zip'
    serve(name, zipArchive(entriesFor(listings[name])))
    const installed = await installHelm({ kind: 'latest' }, baseUrl, {
      platform: helmPlatform('win32', 'arm64'),
      extract: unzipAll
    })
    expect(requests.sort()).toEqual(['/helm-latest-version', `/${name}`, `/${name}.sha256sum`])
    expect(installed.path).toBe(path.join(toolCache(), 'helm', '4.1.4', 'arm64', 'helm.exe'))
  })

  it('macOS arm64: helm-v4.1.4-darwin-arm64.tar.gz through the default extractor', async () => {
    const name = 'helm-v4.1.4-darwin-arm64.tar.gz'
    serve(name, await tarGzArchive(entriesFor(listings[name])))
    const installed = await installHelm({ kind: 'major', major: 4 }, baseUrl, {
      platform: helmPlatform('darwin', 'arm64'),
      extract: extractHelmExecutable
    })
    expect(requests.sort()).toEqual(
      [`/${name}`, `/${name}.sha256sum`, '/helm4-latest-version'].sort()
    )
    expect(installed).toEqual({
      path: path.join(toolCache(), 'helm', '4.1.4', 'arm64', 'helm'),
      version: 'v4.1.4',
      fromCache: false
    })
    expect(await fs.readFile(installed.path, 'utf8')).toBe('fake helm for darwin-arm64/helm\n')
    if (process.platform !== 'win32') {
      expect((await fs.stat(installed.path)).mode & 0o111).not.toBe(0)
    }
  })

  it('refuses a Windows zip that holds helm but no helm.exe', async () => {
    const name = 'helm-v4.1.4-windows-amd64.zip'
    const linuxLayout = listings[name].map(entry => entry.replace('helm.exe', 'helm'))
    serve(name, zipArchive(entriesFor(linuxLayout)))
    const error = await rejection(
      installHelm({ kind: 'exact', version: '4.1.4' }, baseUrl, {
        platform: helmPlatform('win32', 'x64'),
        extract: unzipAll
      })
    )
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `${name} has no windows-amd64/helm.exe: the mirror in "helm-download-url" must serve official Helm archives.`
    )
    expect(await listTree(path.join(toolCache(), 'helm'))).toEqual([])
  })

  it('never extracts a Windows zip whose checksum does not match', async () => {
    const name = 'helm-v4.1.4-windows-amd64.zip'
    const zip = zipArchive(entriesFor(listings[name]))
    serve(name, zip)
    routes.set(`/${name}`, { status: 200, body: Buffer.concat([zip, Buffer.from('x')]) })
    const unzip = recordingUnzip()
    await expect(
      installHelm({ kind: 'exact', version: '4.1.4' }, baseUrl, {
        platform: helmPlatform('win32', 'x64'),
        extract: unzip.extract
      })
    ).rejects.toThrow(/failed checksum verification/)
    expect(unzip.calls).toEqual([])
  })

  it.runIf(process.platform !== 'win32' && hasUnzip())(
    "the zip built here is one tool-cache's extractZip unpacks (unzip on Linux)",
    async () => {
      const name = 'helm-v4.1.4-windows-amd64.zip'
      const file = path.join(process.env.RUNNER_TEMP as string, name)
      await fs.writeFile(file, zipArchive(entriesFor(listings[name])))
      const dir = await tc.extractZip(file)
      expect((await fs.readdir(path.join(dir, 'windows-amd64'))).sort()).toEqual([
        'LICENSE',
        'README.md',
        'helm.exe'
      ])
    }
  )
})

function hasUnzip(): boolean {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
