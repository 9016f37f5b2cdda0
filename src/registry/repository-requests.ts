import { Input } from '../constants.js'
import type { Mutability, PrivateEcrApi, PublicEcrApi } from './ecr.js'
import { UserError } from '../errors.js'
import {
  hasPullPrincipals,
  type PullPrincipals,
  type RepositorySettings,
  type ResourceTag
} from './repository-settings.js'

/** The requests of each ECR call, as ecr.ts types them. */
type CreateRepositoryCommandInput = Parameters<PrivateEcrApi['createRepository']>[0]
type PutLifecyclePolicyCommandInput = Parameters<PrivateEcrApi['putLifecyclePolicy']>[0]
type SetRepositoryPolicyCommandInput = Parameters<PrivateEcrApi['setRepositoryPolicy']>[0]
type PublicCreateRepositoryCommandInput = Parameters<PublicEcrApi['createRepository']>[0]
type PutRepositoryCatalogDataCommandInput = Parameters<PublicEcrApi['putRepositoryCatalogData']>[0]

/* Pure builders: the AWS requests that create and configure a repository, and the one-line
   messages for a follow-up call that fails after the repository was created. */

/** What another account needs to pull a chart (helm pull / helm install / helm_release). */
export const PULL_ACTIONS = [
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchCheckLayerAvailability'
] as const

/** SetRepositoryPolicy's policyText limit. */
export const REPOSITORY_POLICY_MAX = 10240
/** ECR Public catalog data limits (RepositoryCatalogDataInput). */
export const CATALOG_LIMITS = { description: 1024, aboutText: 25600 } as const

export interface PolicyStatement {
  Sid: string
  Effect: 'Allow'
  Principal: '*' | { AWS: string[] }
  Action: string[]
  Condition?: { StringEquals: { 'aws:PrincipalOrgID': string[] } }
}

export interface PolicyDocument {
  Version: '2012-10-17'
  Statement: PolicyStatement[]
}

/** `arn:<partition>:iam::<account>:root`: the account as a principal (its IAM policies decide who). */
export function accountPrincipal(partition: string, account: string): string {
  return `arn:${partition}:iam::${account}:root`
}

/** The repository policy that lets the given accounts and organisations pull. */
export function pullPolicy(pull: PullPrincipals, partition: string): PolicyDocument {
  const Statement: PolicyStatement[] = []
  if (pull.accounts.length > 0) {
    Statement.push({
      Sid: 'PullFromAccounts',
      Effect: 'Allow',
      Principal: { AWS: pull.accounts.map(a => accountPrincipal(partition, a)) },
      Action: [...PULL_ACTIONS]
    })
  }
  if (pull.organizations.length > 0) {
    Statement.push({
      Sid: 'PullFromOrganizations',
      Effect: 'Allow',
      Principal: '*',
      Action: [...PULL_ACTIONS],
      Condition: { StringEquals: { 'aws:PrincipalOrgID': [...pull.organizations] } }
    })
  }
  return { Version: '2012-10-17', Statement }
}

/** The policy as SetRepositoryPolicy takes it; too long a policy is the input's error. */
export function pullPolicyText(pull: PullPrincipals, partition: string): string {
  const text = JSON.stringify(pullPolicy(pull, partition))
  if (text.length > REPOSITORY_POLICY_MAX) {
    throw new UserError(
      `Input "${Input.PullAccounts}" makes a repository policy of ${text.length} characters; ECR takes at most ${REPOSITORY_POLICY_MAX}: grant an organisation ID instead of many accounts.`
    )
  }
  return text
}

export interface PrivateRepositoryRequests {
  create: CreateRepositoryCommandInput
  lifecycle?: PutLifecyclePolicyCommandInput
  policy?: SetRepositoryPolicyCommandInput
}

/** CreateRepository with the settings in the call itself (tags too, for tag-on-create SCPs). */
export function privateRepositoryRequests(opts: {
  repositoryName: string
  registryId?: string
  mutability: Mutability
  settings: RepositorySettings
  partition: string
}): PrivateRepositoryRequests {
  const { repositoryName, registryId, mutability, settings, partition } = opts
  const common = { repositoryName, ...(registryId ? { registryId } : {}) }
  const create: CreateRepositoryCommandInput = {
    ...common,
    imageTagMutability: mutability,
    imageScanningConfiguration: { scanOnPush: settings.scanOnPush },
    encryptionConfiguration: settings.kmsKey
      ? { encryptionType: 'KMS', kmsKey: settings.kmsKey }
      : { encryptionType: 'AES256' },
    ...(settings.tags.length > 0 ? { tags: settings.tags.map(t => ({ ...t })) } : {})
  }
  const requests: PrivateRepositoryRequests = { create }
  if (settings.lifecyclePolicy) {
    requests.lifecycle = { ...common, lifecyclePolicyText: settings.lifecyclePolicy.text }
  }
  if (hasPullPrincipals(settings.pull)) {
    requests.policy = { ...common, policyText: pullPolicyText(settings.pull, partition) }
  }
  return requests
}

export interface ChartCatalog {
  /** Chart.yaml description. */
  description?: string
  /** The chart's README.md, when it has one. */
  readme?: string
}

function clip(text: string, max: number): string {
  const chars = [...text]
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
}

export interface PublicRepositoryRequests {
  create: PublicCreateRepositoryCommandInput
  catalog?: PutRepositoryCatalogDataCommandInput
}

/** ECR Public: CreateRepository with tags, then the catalog data from the chart (clipped to ECR Public's limits). */
export function publicRepositoryRequests(opts: {
  repositoryName: string
  tags: ResourceTag[]
  catalog: ChartCatalog
}): PublicRepositoryRequests {
  const { repositoryName, tags, catalog } = opts
  const requests: PublicRepositoryRequests = {
    create: {
      repositoryName,
      ...(tags.length > 0 ? { tags: tags.map(t => ({ ...t })) } : {})
    }
  }
  const description = catalog.description?.trim()
  const aboutText = catalog.readme?.trim()
  if (description || aboutText) {
    requests.catalog = {
      repositoryName,
      catalogData: {
        ...(description ? { description: clip(description, CATALOG_LIMITS.description) } : {}),
        ...(aboutText ? { aboutText: clip(aboutText, CATALOG_LIMITS.aboutText) } : {})
      }
    }
  }
  return requests
}

/** A call made after CreateRepository succeeded, with what it takes to do it by hand. */
export interface FollowUp {
  /** IAM action, e.g. `ecr:PutLifecyclePolicy`. */
  action: string
  /** What is missing on the repository when it fails, e.g. "its lifecycle policy". */
  missing: string
  /** The aws CLI command that finishes the job. */
  command: string
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`
}

export function lifecycleFollowUp(
  request: PutLifecyclePolicyCommandInput,
  region: string,
  file: string
): FollowUp {
  return {
    action: 'ecr:PutLifecyclePolicy',
    missing: 'its lifecycle policy',
    command: `aws ecr put-lifecycle-policy --repository-name ${request.repositoryName}${request.registryId ? ` --registry-id ${request.registryId}` : ''} --lifecycle-policy-text file://${file} --region ${region}`
  }
}

export function policyFollowUp(request: SetRepositoryPolicyCommandInput, region: string): FollowUp {
  return {
    action: 'ecr:SetRepositoryPolicy',
    missing: 'its pull policy',
    command: `aws ecr set-repository-policy --repository-name ${request.repositoryName}${request.registryId ? ` --registry-id ${request.registryId}` : ''} --policy-text ${shellQuote(request.policyText ?? '')} --region ${region}`
  }
}

export function catalogFollowUp(request: PutRepositoryCatalogDataCommandInput): FollowUp {
  return {
    action: 'ecr-public:PutRepositoryCatalogData',
    missing: 'its catalog data',
    command: `aws ecr-public put-repository-catalog-data --repository-name ${request.repositoryName} --catalog-data ${shellQuote(JSON.stringify(request.catalogData ?? {}))} --region us-east-1`
  }
}

/**
 * The one line for follow-up calls that failed after the repository was created: the IAM action,
 * that the repository exists, and how to finish (by hand, or delete and re-run: a re-run leaves
 * an existing repository as it is).
 */
export function followUpFailure(
  repositoryName: string,
  failures: { followUp: FollowUp; reason: string; denied: boolean }[]
): string {
  const parts = failures.map(({ followUp, reason, denied }) =>
    denied
      ? `AWS denied ${followUp.action} (${reason}), so it has no ${followUp.missing.replace(/^its /, '')}: grant ${followUp.action} to the job's role and run "${followUp.command}"`
      : `${followUp.action} failed (${reason}), so it has no ${followUp.missing.replace(/^its /, '')}: run "${followUp.command}" once the cause is fixed`
  )
  return `Repository ${repositoryName} was created, but ${parts.join('; and ')}; or delete the repository and re-run (a re-run leaves an existing repository as it is).`
}
