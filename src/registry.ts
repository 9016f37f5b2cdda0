import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import pRetry from 'p-retry'
import { privateEcr, publicEcr, type EcrApi, type Mutability, type RegistryLogin } from './ecr.js'
import { UserError, errorMessage } from './errors.js'
import { Helm, HelmCommandError } from './helm.js'
import type { Inputs } from './inputs.js'
import { ociRepository, type ChartJob, type Target } from './plan.js'

/* The registry as a whole: who we are to it (ECR API or static credentials), the job-private
   login, and the repositories charts go to. */

/** How the run authenticates: an ECR API (private or public) or static credentials. */
export interface Authentication {
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

export async function authenticate(inputs: Inputs): Promise<Authentication> {
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

export function missingRepositoryFix(
  auth: Authentication,
  inputs: Inputs
): (name: string) => string {
  if (auth.api && auth.kind === 'ecr') {
    return name =>
      `set "create-repository: true", or create it with "aws ecr create-repository --repository-name ${name} --region ${auth.region}".`
  }
  if (auth.api && auth.kind === 'ecr-public') {
    return name =>
      `set "create-repository: true", or create it with "aws ecr-public create-repository --repository-name ${name} --region us-east-1".`
  }
  return () => `create it in the registry first, or check "namespace" (now "${inputs.namespace}").`
}

/** What to check when the registry refuses a push, for the error message. */
export function pushPermissionFix(auth: Authentication): string {
  if (auth.api && auth.kind === 'ecr') {
    return "check that the job's role may push there (ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage, ecr:BatchGetImage)."
  }
  if (auth.api && auth.kind === 'ecr-public') {
    return "check that the job's role may push there (ecr-public:BatchCheckLayerAvailability, ecr-public:InitiateLayerUpload, ecr-public:UploadLayerPart, ecr-public:CompleteLayerUpload, ecr-public:PutImage)."
  }
  return 'check that "username" may push to this repository.'
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

export async function loginWithRetry(helm: Helm, login: RegistryLogin): Promise<void> {
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
export async function privateDirectory(): Promise<{
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
export function existingLookup(
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

/**
 * Checks every chart up front (one lookup per repository: one chart per repository per run).
 * A lookup that fails is that chart's error, not the run's.
 */
export async function findExisting(
  jobs: ChartJob[],
  lookup: (job: ChartJob) => Promise<string | undefined>
): Promise<{ existing: Map<number, string>; errors: Map<number, string> }> {
  const existing = new Map<number, string>()
  const errors = new Map<number, string>()
  await Promise.all(
    jobs.map(async (job, i) => {
      try {
        const digest = await lookup(job)
        if (digest) existing.set(i, digest)
      } catch (error) {
        errors.set(i, errorMessage(error))
      }
    })
  )
  return { existing, errors }
}

/**
 * create-repository: one CreateRepository per distinct repository, started at once. Returns the
 * promise of each repository; a failure belongs to the charts of that repository only.
 */
export function createRepositories(
  api: EcrApi,
  jobs: ChartJob[],
  mutability: Mutability
): Map<string, Promise<void>> {
  const names = [...new Set(jobs.map(j => j.repositoryName))]
  return new Map(
    names.map(name => {
      const created = api.createRepository(name, mutability).then(isNew => {
        core.info(
          isNew ? `Created repository ${name} (${mutability})` : `Repository ${name} exists`
        )
      })
      created.catch(() => undefined) // observed by the charts that need it
      return [name, created]
    })
  )
}
