import * as core from '@actions/core'
import { Input } from '../constants.js'
import { UserError } from '../errors.js'
import type { Mutability } from '../registry/ecr.js'
import {
  partitionOf,
  type EcrHost,
  type EcrPublicHost,
  type RegistryHost
} from '../registry/registry-host.js'
import {
  checkKmsKeyPlacement,
  namedInputs,
  repositorySettingInputs,
  type RepositorySettings,
  type ResourceTag
} from '../registry/repository-settings.js'
import type { Inputs, TlsOptions } from './inputs.js'

/* Where charts go, checked: one slice per registry kind with only what that kind needs. Every
   rule between the registry inputs (host, region, credentials, TLS, repository settings) is here,
   and each refuses in one line before any network call. */

/** ECR speaks HTTPS with publicly trusted certificates: only a CA bundle (a TLS-inspecting proxy). */
export interface EcrTls {
  plainHttp: false
  insecureSkipTlsVerify: false
  caFile?: string
}

/** A private Amazon ECR registry: the one named in "registry", or the account's own. */
export interface PrivateEcrConfig {
  kind: 'ecr'
  /** Undefined: the default registry of the AWS credentials (its host comes with the login). */
  host?: EcrHost
  /** The region of the ECR API. */
  region: string
  /** ARNs in policies use the registry's partition (aws, aws-us-gov, aws-cn, …). */
  partition: string
  namespace: string
  tls: EcrTls
  /** Present with "create-repository": how this step makes missing repositories. */
  create?: { mutability: Mutability; settings: RepositorySettings }
}

/** Amazon ECR Public: the first namespace segment is the registry alias. */
export interface PublicEcrConfig {
  kind: 'ecr-public'
  host: EcrPublicHost
  alias: string
  namespace: string
  tls: EcrTls
  /** Present with "create-repository": the tags new repositories get. */
  create?: { tags: ResourceTag[] }
}

/** Any OCI registry with "username" and "password" (an ECR host too, with a static token). */
export interface OciConfig {
  kind: 'oci'
  host: RegistryHost
  namespace: string
  tls: TlsOptions
  /** Absent only in a dry run without secrets (a pull request from a fork). */
  credentials?: { username: string; password: string }
}

/** A dry run with no "registry" and no region: nothing remote can be checked. */
export interface UncheckedConfig {
  kind: 'unchecked'
  host?: undefined
  namespace: string
  tls: TlsOptions
}

export type RegistryConfig = PrivateEcrConfig | PublicEcrConfig | OciConfig | UncheckedConfig

/**
 * Amazon ECR and ECR Public speak HTTPS with publicly trusted certificates, so plain HTTP or an
 * unverified TLS connection could only expose the 12-hour registry token.
 */
function ecrTls(registry: string, tls: TlsOptions): EcrTls {
  if (tls.plainHttp) {
    throw new UserError(
      `Input "plain-http" is refused for ${registry}: ECR speaks HTTPS only, and plain HTTP would expose its 12-hour registry token; remove "plain-http".`
    )
  }
  if (tls.insecureSkipTlsVerify) {
    throw new UserError(
      `Input "insecure-skip-tls-verify" is refused for ${registry}: an unverified connection would expose its 12-hour registry token; remove it, and behind a TLS-inspecting proxy give Helm the proxy's CA with "ca-file" (or SSL_CERT_FILE).`
    )
  }
  return { plainHttp: false, insecureSkipTlsVerify: false, caFile: tls.caFile }
}

/** The repository settings (and image-tag-mutability) that are set, in action.yml order. */
function settingNames(inputs: Inputs): string[] {
  const names = repositorySettingInputs(inputs.repositorySettings)
  return inputs.imageTagMutability ? [Input.ImageTagMutability, ...names] : names
}

/** Settings without create-repository do nothing: one warning, once the kind accepted them. */
function warnUnusedSettings(inputs: Inputs): void {
  const set = settingNames(inputs)
  if (set.length === 0 || inputs.createRepository) return
  const many = set.length > 1
  core.warning(
    `${namedInputs(set)} only appl${many ? 'y' : 'ies'} to repositories this step creates, and "create-repository" is false: ${many ? 'they are' : 'it is'} ignored (see the README on changing existing repositories).`
  )
}

/** The region of the ECR API: the input, the registry host, then the job's AWS environment. */
function ecrRegion(
  inputs: Inputs,
  host: EcrHost | undefined,
  env: NodeJS.ProcessEnv
): string | undefined {
  if (host && inputs.region && inputs.region !== host.region) {
    throw new UserError(
      `Input "region" (${inputs.region}) contradicts the region in "registry" (${host.region}): remove "region" or make them match.`
    )
  }
  return inputs.region ?? host?.region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined)
}

function privateEcr(
  inputs: Inputs,
  host: EcrHost | undefined,
  env: NodeJS.ProcessEnv
): PrivateEcrConfig | UncheckedConfig {
  const tls = ecrTls(
    host ? `Amazon ECR (${host.host})` : 'Amazon ECR (the default registry of the AWS credentials)',
    inputs.tls
  )
  const { kmsKey } = inputs.repositorySettings
  // Encryption is fixed when a repository is created: pushing into an existing one would
  // silently miss it, so kms-key alone is an error (the other settings only warn).
  if (kmsKey && !inputs.createRepository) {
    throw new UserError(
      'Input "kms-key" needs "create-repository: true": encryption is fixed when a repository is created, so set create-repository, or remove kms-key and create the repository with the key yourself.'
    )
  }
  const region = ecrRegion(inputs, host, env)
  if (!region && !inputs.dryRun) {
    throw new UserError(
      'Input "region" is empty and neither AWS_REGION nor AWS_DEFAULT_REGION is set: set "region", set "registry" to an ECR host, or give aws-actions/configure-aws-credentials an aws-region.'
    )
  }
  warnUnusedSettings(inputs)
  // A fork's dry run gets no AWS role (so no region) and names no registry: it checks nothing.
  if (!region) return { kind: 'unchecked', namespace: inputs.namespace, tls: inputs.tls }
  // The default registry (no host) is the region's own, so its partition is the region's.
  const partition = host?.partition ?? partitionOf(region)
  if (kmsKey) checkKmsKeyPlacement(kmsKey, partition, region)
  const create = inputs.createRepository
    ? {
        mutability: inputs.imageTagMutability ?? 'MUTABLE',
        settings: inputs.repositorySettings
      }
    : undefined
  return { kind: 'ecr', host, region, partition, namespace: inputs.namespace, tls, create }
}

function publicEcr(inputs: Inputs, host: EcrPublicHost): PublicEcrConfig {
  const tls = ecrTls(`Amazon ECR Public (${host.host})`, inputs.tls)
  if (inputs.namespace === '') {
    throw new UserError(
      `Input "namespace" is required for ${host.host}: set it to your registry alias, e.g. "namespace: my-alias".`
    )
  }
  if (inputs.imageTagMutability) {
    throw new UserError(
      `Input "image-tag-mutability" does not apply to ${host.host}: ECR Public repositories have no tag mutability setting, so remove the input.`
    )
  }
  const refused = repositorySettingInputs(inputs.repositorySettings).filter(
    name => name !== Input.RepositoryTags
  )
  if (refused.length > 0) {
    const many = refused.length > 1
    throw new UserError(
      `${namedInputs(refused)} cannot apply to Amazon ECR Public, which has no KMS keys, scanning, lifecycle policies or pull policies (its repositories are public): remove ${many ? 'them' : 'it'}; "repository-tags" works there.`
    )
  }
  warnUnusedSettings(inputs)
  return {
    kind: 'ecr-public',
    host,
    alias: inputs.namespace.split('/')[0],
    namespace: inputs.namespace,
    tls,
    create: inputs.createRepository ? { tags: inputs.repositorySettings.tags } : undefined
  }
}

function oci(inputs: Inputs, host: RegistryHost, credentials: OciConfig['credentials']): OciConfig {
  // Static credentials for an ECR host (a token from "aws ecr get-login-password") are still
  // an ECR token on an HTTPS-only registry.
  if (host.kind !== 'oci') {
    ecrTls(`${host.kind === 'ecr' ? 'Amazon ECR' : 'Amazon ECR Public'} (${host.host})`, inputs.tls)
  }
  if (inputs.createRepository) {
    throw new UserError(
      'Input "create-repository" needs AWS credentials, not "username"/"password": remove one of them.'
    )
  }
  if (inputs.imageTagMutability) {
    throw new UserError(
      'Input "image-tag-mutability" applies only to ECR repositories that "create-repository" makes: remove it when using "username"/"password".'
    )
  }
  const settings = repositorySettingInputs(inputs.repositorySettings)
  if (settings.length > 0) {
    const many = settings.length > 1
    throw new UserError(
      `${namedInputs(settings)} set${many ? '' : 's'} up Amazon ECR repositories and cannot apply to an OCI registry with "username"/"password": remove ${many ? 'them' : 'it'}.`
    )
  }
  return { kind: 'oci', host, namespace: inputs.namespace, tls: inputs.tls, credentials }
}

/** "username" and "password" come as a pair, with "registry"; a fork's dry run has neither. */
function staticCredentials(inputs: Inputs): OciConfig['credentials'] {
  const { password } = inputs
  // A dry run in a pull request from a fork gets empty secrets: it goes on without credentials.
  const username = inputs.dryRun && !password ? undefined : inputs.username
  if (username && !password) {
    throw new UserError(
      'Input "username" is set but "password" is empty: set both, or neither for Amazon ECR.'
    )
  }
  if (password && !username) {
    throw new UserError(
      'Input "password" is set but "username" is empty: set both, or neither for Amazon ECR.'
    )
  }
  if (!username || !password) return undefined
  if (!inputs.registry) {
    throw new UserError(
      'Inputs "username" and "password" need "registry": set the host of the OCI registry they log in to.'
    )
  }
  return { username, password }
}

/** The registry slice of the configuration; `env` gives AWS_REGION and AWS_DEFAULT_REGION. */
export function registryConfig(inputs: Inputs, env: NodeJS.ProcessEnv): RegistryConfig {
  const host = inputs.registry
  const credentials = staticCredentials(inputs)
  // Username and password log in to any host as a plain OCI registry.
  if (host && credentials) return oci(inputs, host, credentials)
  switch (host?.kind) {
    case undefined:
    case 'ecr':
      return privateEcr(inputs, host, env)
    case 'ecr-public':
      return publicEcr(inputs, host)
    case 'oci':
      // A dry run in a pull request from a fork has no secrets: it checks nothing remote.
      if (inputs.dryRun) return oci(inputs, host, undefined)
      throw new UserError(
        `Input "registry" (${host.host}) is not an Amazon ECR host: set "username" and "password" for other OCI registries, or use ACCOUNT.dkr.ecr.REGION.amazonaws.com.`
      )
    default:
      return unknownHost(host)
  }
}

/** Where charts go, for the log: `oci://HOST`, the default ECR registry, or nowhere yet. */
export function describeRegistry(registry: RegistryConfig): string {
  if (registry.host) return `oci://${registry.host.host}`
  return registry.kind === 'unchecked'
    ? 'no registry ("registry" is empty and there is no AWS region: nothing remote is checked)'
    : 'the default Amazon ECR registry'
}

/** Compile-time guard: a host kind the switch above does not handle is a type error here. */
function unknownHost(host: never): never {
  throw new Error(`unknown registry host kind in ${JSON.stringify(host)}`)
}
