import * as core from '@actions/core'
import { HttpClient } from '@actions/http-client'
import * as tc from '@actions/tool-cache'
import { createHash, randomUUID } from 'node:crypto'
import { createReadStream } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { TOOL_NAME, USER_AGENT } from '../constants.js'
import { UserError, errorMessage } from '../errors.js'
import { cacheMatchesPin, writeArchiveRecord } from './cache-record.js'
import { extractTarGzMember, extractZipMember } from './helm-archive.js'
import type { HelmVersionSpec } from '../config/inputs.js'
import { RETRY, retrying } from '../runtime/retry.js'
import { describeTunnelFailure } from '../runtime/proxy.js'
import { helmArchiveEntry, helmArchiveName, helmPlatform, type HelmPlatform } from './platform.js'

/**
 * Takes the one file `member` (e.g. `linux-amd64/helm`) out of a Helm archive into
 * `destination/member` and returns its path, or undefined when the archive has no such regular
 * file. The default, `extractHelmExecutable`, reads .tar.gz in process and .zip with Windows'
 * own tar.exe under the allow-listed environment (helm-archive.ts): no child process sees the
 * runner's secrets.
 */
export type Extract = (
  archive: string,
  extension: HelmPlatform['extension'],
  member: string,
  destination: string
) => Promise<string | undefined>

export const extractHelmExecutable: Extract = (archive, extension, member, destination) =>
  (extension === 'zip' ? extractZipMember : extractTarGzMember)(archive, destination, member)

export interface InstallOptions {
  /** Which Helm build to install; default: this runner's (`helmPlatform()`). */
  platform?: HelmPlatform
  /** Default: `extractHelmExecutable`. */
  extract?: Extract
  /** The "helm-sha256" pin: checked instead of the mirror's .sha256sum. */
  sha256?: string
}

export interface InstalledHelm {
  /** Absolute path of the helm executable. */
  path: string
  /** With the leading v, e.g. v3.18.0. */
  version: string
  /** True when it came from the tool cache with no download. */
  fromCache: boolean
}

const LATEST_FILE: Record<string, string> = {
  latest: 'helm-latest-version',
  '3': 'helm3-latest-version',
  '4': 'helm4-latest-version'
}

function http(): HttpClient {
  return new HttpClient(USER_AGENT, [], {
    allowRetries: true,
    maxRetries: RETRY.httpClient.retries
  })
}

/** A certificate Node does not trust (a TLS-inspecting proxy's, usually), in one line. */
function untrustedCertificate(url: string, error: unknown): string | undefined {
  const reason = errorMessage(error)
  if (!/certificate|self[- ]signed|UNABLE_TO_VERIFY|CERT_/i.test(reason)) return undefined
  return `The TLS certificate of ${new URL(url).host} is not trusted (${reason}): behind a TLS-inspecting proxy, set NODE_EXTRA_CA_CERTS for the job to a PEM file with the proxy's CA; check "helm-download-url".`
}

/** No answer, or an answer worth asking again for (5xx, 429, 408). */
class TransientDownloadError extends UserError {}

async function getTextOnce(url: string, what: string): Promise<string> {
  let response
  try {
    response = await http().get(url)
  } catch (error) {
    const unreachable = describeTunnelFailure(url, error) ?? untrustedCertificate(url, error)
    if (unreachable) throw new UserError(unreachable)
    throw new TransientDownloadError(
      `Could not reach ${url} for ${what} (${errorMessage(error)}): check "helm-download-url" and the runner's network or proxy.`
    )
  }
  const status = response.message.statusCode ?? 0
  const body = await response.readBody()
  if (status !== 200) {
    const Failure =
      status >= 500 || status === 429 || status === 408 ? TransientDownloadError : UserError
    throw new Failure(
      `${url} answered HTTP ${status} for ${what}: check "helm-version" and "helm-download-url".`
    )
  }
  return body
}

/** A small text file (version, checksum); network errors and 5xx are retried, as downloads are. */
async function getText(url: string, what: string): Promise<string> {
  return retrying(
    () => getTextOnce(url, what),
    RETRY.download,
    error => error instanceof TransientDownloadError
  )
}

/** Turns `latest`, `3` or `4` into an exact version using the mirror's *-latest-version files. */
export async function resolveHelmVersion(spec: HelmVersionSpec, baseUrl: string): Promise<string> {
  if (spec.kind === 'exact') return `v${spec.version}`
  const key = spec.kind === 'latest' ? 'latest' : String(spec.major)
  const url = `${baseUrl}/${LATEST_FILE[key]}?ts=${Date.now()}`
  const text = await getText(
    url,
    spec.kind === 'latest' ? 'the latest Helm' : `the latest Helm ${spec.major}`
  )
  const version = text
    .split(/\r?\n/)
    .map(line => line.trim())
    .find(line => /^v\d+\.\d+\.\d+$/.test(line))
  if (!version) {
    throw new UserError(
      `${baseUrl}/${LATEST_FILE[key]} holds no Helm version: check "helm-download-url", or set an exact "helm-version".`
    )
  }
  if (spec.kind === 'major' && !version.startsWith(`v${spec.major}.`)) {
    throw new UserError(
      `${baseUrl}/${LATEST_FILE[key]} names ${version}, not a Helm ${spec.major} release: set an exact "helm-version".`
    )
  }
  return version
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** `<hex>  <file>` (shasum format) or a bare hex digest. */
export function parseChecksumFile(text: string): string | undefined {
  return /^([a-f0-9]{64})\b/i.exec(text.trim())?.[1]?.toLowerCase()
}

async function download(url: string, version: string): Promise<string> {
  try {
    return await tc.downloadTool(url)
  } catch (error) {
    if (error instanceof tc.HTTPError && error.httpStatusCode === 404) {
      throw new UserError(
        `Helm ${version} is not at ${url} (HTTP 404): check "helm-version" and "helm-download-url".`
      )
    }
    throw new UserError(
      describeTunnelFailure(url, error) ??
        untrustedCertificate(url, error) ??
        `Could not download ${url} (${errorMessage(error)}): check "helm-download-url" and the runner's network or proxy.`
    )
  }
}

/** The archive's expected SHA-256: the "helm-sha256" pin, else the mirror's .sha256sum file. */
async function expectedSha256(url: string, archive: string, pin?: string): Promise<string> {
  if (pin) return pin
  const expected = parseChecksumFile(
    await getText(`${url}.sha256sum`, `the checksum of ${archive}`)
  )
  if (!expected) {
    throw new UserError(
      `${url}.sha256sum holds no SHA-256 digest: the mirror in "helm-download-url" must publish .sha256sum files as get.helm.sh does, or pin the archive with "helm-sha256".`
    )
  }
  return expected
}

async function downloadVerifyExtract(
  version: string,
  baseUrl: string,
  platform: HelmPlatform,
  extract: Extract,
  pin?: string
): Promise<string> {
  const archive = helmArchiveName(version, platform)
  const url = `${baseUrl}/${archive}`
  const downloading = download(url, version)
  const [file, expected] = await Promise.all([
    downloading,
    expectedSha256(url, archive, pin).catch(async (error: unknown) => {
      // No checksum: the archive is never used; remove it once its download settles (the
      // process would wait for that download anyway).
      await downloading.then(
        file => fs.rm(file, { force: true }),
        () => undefined
      )
      throw error
    })
  ])
  const actual = await sha256File(file)
  if (actual !== expected) {
    await fs.rm(file, { force: true })
    throw new UserError(
      pin
        ? `Helm archive ${archive} does not match "helm-sha256" (expected ${expected}, got ${actual}); nothing was installed: check "helm-sha256" and "helm-download-url".`
        : `Helm archive ${archive} failed checksum verification (expected sha256 ${expected}, got ${actual}); nothing was installed: the download was corrupted or tampered with, check "helm-download-url".`
    )
  }
  core.info(`Verified ${archive} (sha256 ${actual}${pin ? ', pinned by helm-sha256' : ''})`)
  // Only the executable is taken out, in a scratch directory that is removed afterwards.
  const member = helmArchiveEntry(platform)
  const extracted = path.join(process.env.RUNNER_TEMP || os.tmpdir(), `helm-${randomUUID()}`)
  try {
    const written = await extract(file, platform.extension, member, extracted).catch(
      (error: unknown) => {
        throw new UserError(
          `Could not unpack ${archive} (${errorMessage(error)}): the mirror in "helm-download-url" must serve official Helm archives.`
        )
      }
    )
    if (!written) {
      throw new UserError(
        `${archive} has no ${member}: the mirror in "helm-download-url" must serve official Helm archives.`
      )
    }
    await writeArchiveRecord(path.dirname(written), actual, archive)
    return await tc.cacheDir(
      path.dirname(written),
      TOOL_NAME,
      version.replace(/^v/, ''),
      platform.cacheArch
    )
  } finally {
    await fs.rm(file, { force: true })
    await fs.rm(extracted, { recursive: true, force: true })
  }
}

/**
 * Finds Helm in the tool cache (with `options.sha256`, only one whose recorded archive digest
 * matches), or downloads, verifies (against `options.sha256` when given, else the mirror's
 * .sha256sum), extracts and caches it with the verified digest recorded.
 */
export async function installHelm(
  spec: HelmVersionSpec,
  baseUrl: string,
  options: InstallOptions = {}
): Promise<InstalledHelm> {
  const platform = options.platform ?? helmPlatform()
  const extract = options.extract ?? extractHelmExecutable
  if (spec.kind === 'exact') {
    const cached = tc.find(TOOL_NAME, spec.version, platform.cacheArch)
    // With a pin, only a Helm whose recorded archive digest matches it (cache-record.ts).
    const trusted =
      cached && (!options.sha256 || (await cacheMatchesPin(cached, spec.version, options.sha256)))
    if (cached && !trusted) {
      core.info(
        `Helm ${spec.version} in the tool cache has no recorded archive digest; downloading it to check "helm-sha256"`
      )
    }
    if (cached && trusted) {
      return {
        path: path.join(cached, platform.executable),
        version: `v${spec.version}`,
        fromCache: true
      }
    }
  }
  const version = await resolveHelmVersion(spec, baseUrl)
  if (spec.kind !== 'exact') {
    const cached = tc.find(TOOL_NAME, version.replace(/^v/, ''), platform.cacheArch)
    if (cached) {
      return { path: path.join(cached, platform.executable), version, fromCache: true }
    }
  }
  const dir = await downloadVerifyExtract(version, baseUrl, platform, extract, options.sha256)
  return { path: path.join(dir, platform.executable), version, fromCache: false }
}
