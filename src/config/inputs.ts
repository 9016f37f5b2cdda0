import * as core from '@actions/core'
import * as fs from 'node:fs'
import semver from 'semver'
import { Input } from '../constants.js'
import { parseCharts } from './charts-input.js'
import { workspaceDir } from '../runtime/paths.js'
import { refuseUrlCredentials } from '../runtime/url-userinfo.js'
import { UserError } from '../errors.js'
import { parseRegistryHost, REGION, type RegistryHost } from '../registry/registry-host.js'
import type { Mutability } from '../registry/ecr.js'
import { isSemVer2, REPOSITORY_SEGMENT } from '../chart/chart.js'
import {
  parseKmsKey,
  parsePullAccounts,
  parseRepositoryTags,
  readLifecyclePolicyFile,
  type RepositorySettings
} from '../registry/repository-settings.js'

export type HelmVersionSpec =
  { kind: 'latest' } | { kind: 'major'; major: 3 | 4 } | { kind: 'exact'; version: string }

export interface Inputs {
  charts: string[]
  registry?: RegistryHost
  namespace: string
  region?: string
  version?: string
  appVersion?: string
  helmVersion: HelmVersionSpec
  helmDownloadUrl: string
  /** Lower-case hex SHA-256 the Helm archive must have (then the mirror's .sha256sum is not read). */
  helmSha256?: string
  createRepository: boolean
  /** Undefined when the input is empty (private ECR then creates MUTABLE repositories). */
  imageTagMutability?: Mutability
  /** Tags, scanning, KMS, lifecycle and pull access for repositories this step creates. */
  repositorySettings: RepositorySettings
  skipExisting: boolean
  maxParallel: number
  /** Everything but writes: lint, package, report the digest; check the registry when credentials exist. */
  dryRun: boolean
  username?: string
  password?: string
  tls: TlsOptions
  /** Sign SLSA provenance for pushed charts and store it as a registry referrer. */
  attest: boolean
  /** For GitHub's attestations API (attest only). */
  githubToken?: string
  /** ASCII-armored OpenPGP secret key, exactly as given (a secret). */
  signingKey?: string
  signingPassphrase?: string
}

export interface TlsOptions {
  plainHttp: boolean
  insecureSkipTlsVerify: boolean
  caFile?: string
}

/** Reads one input; `read` is injectable so tests need no runner environment. */
export type InputReader = (name: string) => string

/** The runner's variable for an input (what core.getInput reads). */
export function inputVariable(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/** Inputs that are secrets: taken exactly as given, and masked by readInputs. */
const SECRET_INPUTS: readonly string[] = [Input.Password, Input.SigningKey, Input.SigningPassphrase]

// A secret is taken exactly as given, and leaves process.env as soon as it is read, so that no
// child process (whatever environment it is given) and no later code can find it there. Every
// other input is trimmed.
const defaultReader: InputReader = name => {
  if (!SECRET_INPUTS.includes(name)) return core.getInput(name, { trimWhitespace: true })
  const secret = core.getInput(name, { trimWhitespace: false })
  delete process.env[inputVariable(name)]
  return secret
}

/** Reads a secret input and masks it (each line too: the runner masks a value line by line). */
function readSecret(read: InputReader, name: string): string | undefined {
  const value = read(name)
  if (value.trim() === '') return undefined
  core.setSecret(value)
  for (const line of value.split(/\r?\n/)) if (line.trim() !== '') core.setSecret(line.trim())
  return value
}

const MIN_HELM = '3.8.0'

export function parseBoolean(name: string, value: string): boolean {
  const v = value.trim().toLowerCase()
  if (v === '' || v === 'false') return false
  if (v === 'true') return true
  throw new UserError(`Input "${name}" must be "true" or "false" (got "${value}").`)
}

/** `v1.4.0` -> `1.4.0`; must be SemVer 2, the rule Helm applies to chart versions. */
export function parseChartVersion(name: string, value: string): string | undefined {
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  if (trimmed.startsWith('refs/')) {
    throw new UserError(
      `Input "${name}" is a Git ref (got "${value}"): pass the tag's name with "\${{ github.ref_name }}" instead of "\${{ github.ref }}".`
    )
  }
  const version = trimmed.replace(/^v/, '')
  if (!isSemVer2(version)) {
    throw new UserError(
      `Input "${name}" must be a SemVer 2 version such as "1.4.0" or "v1.4.0" (got "${value}"): on tag pushes, use tags like v1.4.0.`
    )
  }
  return version
}

export function parseHelmVersion(value: string): HelmVersionSpec {
  const v = value.trim().toLowerCase()
  if (v === '' || v === 'latest') return { kind: 'latest' }
  if (v === '3' || v === '4' || v === 'v3' || v === 'v4') {
    return { kind: 'major', major: Number(v.replace('v', '')) as 3 | 4 }
  }
  const exact = v.replace(/^v/, '')
  if (/^\d+\.\d+\.\d+$/.test(exact) && semver.valid(exact)) {
    if (semver.lt(exact, MIN_HELM)) {
      throw new UserError(
        `Input "helm-version" ${value} is too old: OCI push needs Helm ${MIN_HELM} or later; use "3", "4" or "latest".`
      )
    }
    return { kind: 'exact', version: exact }
  }
  throw new UserError(
    `Input "helm-version" must be "latest", a major version ("3" or "4"), or an exact version such as "3.18.0" (got "${value}").`
  )
}

export function parseNamespace(value: string): string {
  const ns = value.trim().replace(/^\/+|\/+$/g, '')
  if (ns === '') return ''
  const valid = (text: string) => text.split('/').every(s => REPOSITORY_SEGMENT.test(s))
  if (!valid(ns) && ns !== ns.toLowerCase() && valid(ns.toLowerCase())) {
    throw new UserError(
      `Input "namespace" must be lowercase, as registries require (got "${value}"): use "${ns.toLowerCase()}".`
    )
  }
  for (const segment of ns.split('/')) {
    if (!REPOSITORY_SEGMENT.test(segment)) {
      throw new UserError(
        `Input "namespace" must be lowercase path segments of letters, digits and single ".", "_" or "-" between them (got "${value}"): e.g. "charts" or "team/charts".`
      )
    }
  }
  return ns
}

function parseMaxParallel(value: string): number {
  const n = Number(value.trim() === '' ? '4' : value.trim())
  if (!Number.isInteger(n) || n < 1 || n > 32) {
    throw new UserError(
      `Input "max-parallel" must be a whole number from 1 to 32 (got "${value}").`
    )
  }
  return n
}

function parseMutability(value: string): Mutability | undefined {
  const v = value.trim().toUpperCase()
  if (v === '') return undefined
  if (v !== 'MUTABLE' && v !== 'IMMUTABLE') {
    throw new UserError(
      `Input "image-tag-mutability" must be "MUTABLE" or "IMMUTABLE" (got "${value}").`
    )
  }
  return v
}

function parseHelmSha256(value: string): string | undefined {
  const v = value.trim().toLowerCase()
  if (v === '') return undefined
  if (!/^[0-9a-f]{64}$/.test(v)) {
    throw new UserError(
      `Input "helm-sha256" must be the 64 hex digits of the Helm archive's SHA-256 (got "${value}"): copy it from the archive's .sha256sum file on get.helm.sh.`
    )
  }
  return v
}

/** An https:// or http:// URL (config.ts allows http:// only with "helm-sha256"). */
function parseDownloadUrl(value: string): string {
  refuseUrlCredentials(value, Input.HelmDownloadUrl) // before any message repeats the value
  const v = value.trim() || 'https://get.helm.sh'
  const protocol = URL.parse(v)?.protocol
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new UserError(
      `Input "helm-download-url" must be an https:// URL such as "https://get.helm.sh" (got "${value}").`
    )
  }
  return v.replace(/\/+$/, '')
}

function parseAppVersion(value: string): string | undefined {
  if (value.trim() === '') return undefined
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value.trim())) {
    throw new UserError(
      'Input "app-version" must be a single line without control characters: pass one value such as "1.4.0".'
    )
  }
  return value.trim()
}

/** The repository settings. Which registry kinds take which settings is config/registry-config.ts's rule. */
function readRepositorySettings(read: InputReader, workspace: string): RepositorySettings {
  const settings: RepositorySettings = {
    tags: parseRepositoryTags(read(Input.RepositoryTags)),
    scanOnPush: parseBoolean(Input.ScanOnPush, read(Input.ScanOnPush)),
    kmsKey: parseKmsKey(read(Input.KmsKey)),
    pull: parsePullAccounts(read(Input.PullAccounts)),
    lifecyclePolicy: readLifecyclePolicyFile(read(Input.LifecyclePolicy), workspace)
  }
  return settings
}

/**
 * Reads and checks each input on its own, checks that "ca-file" exists and reads
 * "lifecycle-policy" (relative to `workspace`). Rules between inputs are config.ts's.
 */
export function readInputs(
  read: InputReader = defaultReader,
  workspace: string = workspaceDir()
): Inputs {
  const password = readSecret(read, Input.Password) // masked first, whatever fails next
  const signingKey = readSecret(read, Input.SigningKey)
  const signingPassphrase = readSecret(read, Input.SigningPassphrase)
  const registryText = read(Input.Registry).trim()
  const regionText = read(Input.Region).trim()
  if (regionText !== '' && !REGION.test(regionText)) {
    throw new UserError(
      `Input "region" must be an AWS region such as "eu-west-2" or "us-gov-west-1" (got "${regionText}").`
    )
  }
  const caFile = read(Input.CaFile).trim() || undefined
  if (caFile && !fs.existsSync(caFile)) {
    throw new UserError(
      `Input "ca-file" names a file that does not exist (${caFile}): check the path.`
    )
  }
  const attest = parseBoolean(Input.Attest, read(Input.Attest))
  // The token matters (and is read) only for attestations.
  const githubToken = attest ? read(Input.GithubToken).trim() || undefined : undefined
  if (githubToken) core.setSecret(githubToken)
  return {
    charts: parseCharts(read(Input.Charts), workspace),
    registry: registryText === '' ? undefined : parseRegistryHost(registryText),
    namespace: parseNamespace(read(Input.Namespace)),
    region: regionText || undefined,
    version: parseChartVersion(Input.Version, read(Input.Version)),
    appVersion: parseAppVersion(read(Input.AppVersion)),
    helmVersion: parseHelmVersion(read(Input.HelmVersion)),
    helmDownloadUrl: parseDownloadUrl(read(Input.HelmDownloadUrl)),
    helmSha256: parseHelmSha256(read(Input.HelmSha256)),
    createRepository: parseBoolean(Input.CreateRepository, read(Input.CreateRepository)),
    imageTagMutability: parseMutability(read(Input.ImageTagMutability)),
    repositorySettings: readRepositorySettings(read, workspace),
    skipExisting: parseBoolean(Input.SkipExisting, read(Input.SkipExisting)),
    maxParallel: parseMaxParallel(read(Input.MaxParallel)),
    dryRun: parseBoolean(Input.DryRun, read(Input.DryRun)),
    username: read(Input.Username).trim() || undefined,
    password,
    tls: {
      plainHttp: parseBoolean(Input.PlainHttp, read(Input.PlainHttp)),
      insecureSkipTlsVerify: parseBoolean(
        Input.InsecureSkipTlsVerify,
        read(Input.InsecureSkipTlsVerify)
      ),
      caFile
    },
    attest,
    githubToken,
    signingKey,
    signingPassphrase
  }
}
