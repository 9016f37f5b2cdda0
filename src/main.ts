import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import pRetry from 'p-retry'
import {
  discoverCharts,
  effectiveVersion,
  parseChartYaml,
  readChartDir,
  type ChartMetadata,
  type ChartSource
} from './chart.js'
import { privateEcr, publicEcr, type EcrApi, type Mutability, type RegistryLogin } from './ecr.js'
import { UserError, errorMessage } from './errors.js'
import { Helm, HelmCommandError } from './helm.js'
import { readInputs, type Inputs } from './inputs.js'
import { installHelm } from './installer.js'
import { linkDependencies, makeJob, ociRepository, type ChartJob, type Target } from './plan.js'
import { publishCharts, type ChartResult } from './publish.js'
import { saveState } from './state.js'
import { setOutputs, writeSummary } from './summary.js'

/** How the run authenticates: an ECR API (private or public) or static credentials. */
interface Authentication {
  login: RegistryLogin
  api?: EcrApi
  region?: string
  kind: 'ecr' | 'ecr-public' | 'other'
}

function defaultRegion(inputs: Inputs): string {
  const region = inputs.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
  if (!region) {
    throw new UserError(
      'Input "region" is empty and neither AWS_REGION nor AWS_DEFAULT_REGION is set: set "region", set "registry" to an ECR host, or give aws-actions/configure-aws-credentials an aws-region.'
    )
  }
  return region
}

async function authenticate(inputs: Inputs): Promise<Authentication> {
  const registry = inputs.registry
  if (inputs.username && inputs.password && registry) {
    return {
      kind: registry.kind,
      login: { host: registry.host, username: inputs.username, password: inputs.password }
    }
  }
  if (registry?.kind === 'ecr-public') {
    const api = await publicEcr(registry.host)
    return { kind: 'ecr-public', api, region: registry.region, login: await api.login() }
  }
  const host = registry?.kind === 'ecr' ? registry : undefined
  const region = inputs.region ?? host?.region ?? defaultRegion(inputs)
  const api = await privateEcr(region, host)
  return { kind: 'ecr', api, region, login: await api.login() }
}

async function readCharts(patterns: string[], workspace: string) {
  const sources = await discoverCharts(patterns, workspace)
  return Promise.all(
    sources.map(async source => ({
      source,
      meta: source.kind === 'dir' ? await readChartDir(source.path, source.display) : undefined
    }))
  )
}

function missingRepositoryFix(auth: Authentication, inputs: Inputs): (name: string) => string {
  if (auth.kind === 'ecr') {
    return name =>
      `set "create-repository: true", or create it with "aws ecr create-repository --repository-name ${name} --region ${auth.region}".`
  }
  if (auth.kind === 'ecr-public') {
    return name =>
      `set "create-repository: true", or create it with "aws ecr-public create-repository --repository-name ${name} --region us-east-1".`
  }
  return () => `create it in the registry first, or check "namespace" (now "${inputs.namespace}").`
}

/**
 * Seeds the job-private registry config with an empty entry for the host. A config with no
 * auth entry lets Helm (every version) hand the password to a docker-credential-* helper it
 * finds on PATH, i.e. into the runner user's keyring where it outlives the job; with an entry,
 * Helm writes the login into this file, which the post step deletes.
 */
export async function seedRegistryConfig(file: string, host: string): Promise<void> {
  await fs.writeFile(file, JSON.stringify({ auths: { [host]: {} } }, null, 2), { mode: 0o600 })
}

async function loginWithRetry(helm: Helm, login: RegistryLogin): Promise<void> {
  // Helm stores base64(user:password) in the config file; mask that form too.
  core.setSecret(Buffer.from(`${login.username}:${login.password}`).toString('base64'))
  try {
    await pRetry(() => helm.registryLogin(login.host, login.username, login.password), {
      retries: 2,
      minTimeout: 1000,
      shouldRetry: ({ error }) => error instanceof HelmCommandError && error.kind === 'transient'
    })
  } catch (error) {
    if (error instanceof HelmCommandError) {
      const reason = error.message.replace(/^helm registry login failed: /, '')
      if (error.kind === 'auth') {
        throw new UserError(
          `Registry ${login.host} rejected the login (${reason}): check the credentials ("username"/"password", or the AWS role's ecr:GetAuthorizationToken permission and the registry host).`
        )
      }
      throw new UserError(
        `Could not log in to registry ${login.host} (${reason}): check "registry", the runner's network, and for private registries "plain-http", "ca-file" or "insecure-skip-tls-verify".`
      )
    }
    throw error
  }
}

/** Makes the job-private directory that holds the registry login; post deletes it. */
async function privateDirectory(): Promise<{
  root: string
  registryConfig: string
  dockerConfig: string
}> {
  const base = process.env.RUNNER_TEMP || os.tmpdir()
  await fs.mkdir(base, { recursive: true })
  const root = await fs.mkdtemp(path.join(base, 'helm-ecr-publish-'))
  await fs.chmod(root, 0o700)
  const registryConfig = path.join(root, 'registry', 'config.json')
  const dockerConfig = path.join(root, 'docker')
  await fs.mkdir(path.dirname(registryConfig), { recursive: true, mode: 0o700 })
  await fs.mkdir(dockerConfig, { recursive: true, mode: 0o700 })
  return { root, registryConfig, dockerConfig }
}

/** Looks up whether a chart version is already published: ECR's API, else `helm pull`. */
function existingLookup(
  auth: Authentication,
  helm: Helm,
  target: Target,
  workDir: string
): (job: ChartJob) => Promise<string | undefined> {
  const api = auth.api
  if (api) return job => api.findTag(job.repositoryName, job.tag)
  return async job =>
    helm.remoteDigest(
      ociRepository(target),
      job.meta.name,
      job.version,
      await fs.mkdtemp(path.join(workDir, 'exists-'))
    )
}

/** Checks every chart up front: one lookup per repository (one chart per repository per run). */
async function findExisting(
  jobs: ChartJob[],
  lookup: (job: ChartJob) => Promise<string | undefined>
): Promise<Map<number, string>> {
  const existing = new Map<number, string>()
  await Promise.all(
    jobs.map(async (job, i) => {
      const digest = await lookup(job)
      if (digest) existing.set(i, digest)
    })
  )
  return existing
}

/** create-repository: one CreateRepository per distinct repository, in parallel. */
async function createRepositories(
  api: EcrApi,
  jobs: ChartJob[],
  mutability: Mutability
): Promise<void> {
  const names = [...new Set(jobs.map(j => j.repositoryName))]
  await Promise.all(
    names.map(async name => {
      const created = await api.createRepository(name, mutability)
      core.info(
        created ? `Created repository ${name} (${mutability})` : `Repository ${name} exists`
      )
    })
  )
}

/** Chart.yaml inside a packaged chart; its version is fixed, so overrides cannot apply. */
async function archiveMetadata(
  helm: Helm,
  source: ChartSource,
  inputs: Inputs
): Promise<ChartMetadata> {
  if (inputs.version || inputs.appVersion) {
    throw new UserError(
      `Inputs "version" and "app-version" cannot change the packaged chart "${source.display}": pass its chart directory instead, or leave them empty.`
    )
  }
  try {
    return parseChartYaml(await helm.showChart(source.path), source.display)
  } catch (error) {
    if (error instanceof HelmCommandError) {
      throw new UserError(
        `Input "charts" entry "${source.display}" is not a readable Helm chart archive (${error.message.replace(/^helm show chart failed: /, '')}): package it with "helm package" or point at the chart directory.`
      )
    }
    throw error
  }
}

/** Helm 3.18.0 fails every push of a version with build metadata ("Error: not found", helm#30881). */
function rejectKnownHelmBugs(helm: Helm, jobs: ChartJob[]): void {
  const withBuild = jobs.find(job => job.version.includes('+'))
  if (helm.semver === '3.18.0' && withBuild) {
    throw new UserError(
      `Helm 3.18.0 cannot push version ${withBuild.version} (build metadata after "+", helm/helm#30881): set "helm-version" to another release, e.g. "3" or "4".`
    )
  }
}

/** Two charts of one run with one name would overwrite each other's repository. */
function rejectDuplicateNames(jobs: ChartJob[]): void {
  const seen = new Map<string, ChartJob>()
  for (const job of jobs) {
    const other = seen.get(job.meta.name)
    if (other) {
      throw new UserError(
        `Input "charts" has two charts named "${job.meta.name}" (${other.source.display} and ${job.source.display}): publish each name once per run.`
      )
    }
    seen.set(job.meta.name, job)
  }
}

function reportFailures(results: ChartResult[]): void {
  const failed = results.filter(r => r.error)
  if (failed.length === 0) return
  if (results.length === 1) {
    core.setFailed(failed[0].error as string)
    return
  }
  for (const r of failed) core.error(`Chart ${r.chart} ${r.version}: ${r.error}`)
  const pushed = results.filter(r => r.pushed).length
  core.setFailed(
    `${failed.length} of ${results.length} charts failed (${failed.map(r => r.chart).join(', ')}); ${pushed} pushed: see the errors above for each chart's reason.`
  )
}

export async function run(): Promise<void> {
  try {
    const inputs = readInputs()
    core.info(
      `Publishing ${inputs.charts.join(', ')} to ${inputs.registry?.host ?? 'the default Amazon ECR registry'}${inputs.namespace ? `/${inputs.namespace}` : ''}`
    )
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
    const dirs = await privateDirectory()
    saveState({ registryConfigDir: dirs.root, loggedInHosts: [] })

    // Independent work overlaps: the Helm download, reading charts and fetching the ECR token.
    const [installed, charts, auth] = await Promise.all([
      installHelm(inputs.helmVersion, inputs.helmDownloadUrl),
      readCharts(inputs.charts, workspace),
      authenticate(inputs)
    ])
    core.info(
      `Helm ${installed.version} ${installed.fromCache ? 'from the tool cache' : 'installed'}; registry ${auth.login.host}; ${charts.length} chart(s)`
    )
    core.addPath(path.dirname(installed.path))
    core.exportVariable('HELM_REGISTRY_CONFIG', dirs.registryConfig)
    const helm = new Helm(
      installed.path,
      installed.version,
      {
        ...(process.env as Record<string, string>),
        HELM_REGISTRY_CONFIG: dirs.registryConfig,
        DOCKER_CONFIG: dirs.dockerConfig
      },
      inputs.tls,
      line => core.debug(line)
    )
    const unsupported = helm.unsupportedTlsInputs()
    if (unsupported.length > 0) {
      core.warning(
        `Helm ${installed.version} cannot apply ${unsupported.join(', ')}; set "helm-version" to a newer Helm.`
      )
    }

    const namespace = inputs.namespace
    const target: Target = {
      host: auth.login.host,
      namespace,
      repositoryPrefix:
        auth.kind === 'ecr-public' ? namespace.split('/').slice(1).join('/') : namespace
    }

    const jobs: ChartJob[] = []
    for (const { source, meta: dirMeta } of charts) {
      const meta = dirMeta ?? (await archiveMetadata(helm, source, inputs))
      const where = source.kind === 'dir' ? path.join(source.display, 'Chart.yaml') : source.display
      const override = source.kind === 'dir' ? inputs.version : undefined
      jobs.push(makeJob(source, meta, effectiveVersion(meta, override, where), target))
    }
    rejectDuplicateNames(jobs)
    rejectKnownHelmBugs(helm, jobs)
    linkDependencies(jobs, target)

    // The login and the repository work (create, skip-existing lookups) are independent for ECR.
    const lookup = inputs.skipExisting ? existingLookup(auth, helm, target, dirs.root) : undefined
    const loggedIn = (async () => {
      await seedRegistryConfig(dirs.registryConfig, auth.login.host)
      await loginWithRetry(helm, auth.login)
      saveState({
        registryConfigDir: dirs.root,
        helmPath: installed.path,
        loggedInHosts: [auth.login.host]
      })
      core.info(`Logged in to ${auth.login.host}`)
    })()
    const prepared = (async () => {
      if (inputs.createRepository && auth.api) {
        await createRepositories(auth.api, jobs, inputs.imageTagMutability)
      }
      if (!lookup) return new Map<number, string>()
      if (!auth.api) await loggedIn // helm pull needs the login
      return findExisting(jobs, lookup)
    })()
    const [, existing] = await Promise.all([loggedIn, prepared])

    const results = await publishCharts(helm, jobs, {
      target,
      appVersion: inputs.appVersion,
      versionOverride: inputs.version !== undefined,
      existing,
      lookupExisting: lookup,
      maxParallel: inputs.maxParallel,
      workDir: dirs.root,
      missingRepositoryFix: missingRepositoryFix(auth, inputs),
      pushPermissionFix: auth.api
        ? "check that the job's role may push there (ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage, ecr:BatchGetImage)."
        : 'check that "username" may push to this repository.',
      retry: { retries: 3, minTimeoutMs: 1000 }
    })
    setOutputs(results, installed.version)
    await writeSummary(results, installed.version)
    reportFailures(results)
  } catch (error) {
    if (!(error instanceof UserError) && error instanceof Error && error.stack)
      core.debug(error.stack)
    core.setFailed(errorMessage(error))
  }
}
