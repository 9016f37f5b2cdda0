import * as core from '@actions/core'
import type {
  CreateRepositoryCommandInput,
  PutLifecyclePolicyCommandInput,
  SetRepositoryPolicyCommandInput
} from '@aws-sdk/client-ecr'
import type {
  CreateRepositoryCommandInput as PublicCreateRepositoryCommandInput,
  PutRepositoryCatalogDataCommandInput
} from '@aws-sdk/client-ecr-public'
import { USER_AGENT } from '../constants.js'
import { MissingCredentialsError, UserError, oneLine } from '../errors.js'
import { isDigest } from '../model.js'
import { ProxyConnectError } from '../runtime/proxy.js'
import { RETRY, attempts } from '../runtime/retry.js'
import { awsRequestHandler } from './aws-transport.js'
import { hostFromProxyEndpoint, type EcrHost } from './registry-host.js'

/** Credentials for `helm registry login`, from an ECR authorization token. */
export interface RegistryLogin {
  host: string
  username: string
  password: string
}

export type Mutability = 'MUTABLE' | 'IMMUTABLE'

/** What the action needs from an ECR flavour (private or public); one client per run. */
export interface EcrApi {
  login(): Promise<RegistryLogin>
  /** The digest of `tag` in `repository`, or undefined when the tag (or the repository) is absent. */
  findTag(repository: string, tag: string): Promise<string | undefined>
}

/** Private Amazon ECR. Follow-up calls (after a creation) throw FollowUpError. */
export interface PrivateEcrApi extends EcrApi {
  /** Creates the repository; false when it already existed. */
  createRepository(request: CreateRepositoryCommandInput): Promise<boolean>
  putLifecyclePolicy(request: PutLifecyclePolicyCommandInput): Promise<void>
  setRepositoryPolicy(request: SetRepositoryPolicyCommandInput): Promise<void>
}

/** Amazon ECR Public. */
export interface PublicEcrApi extends EcrApi {
  createRepository(request: PublicCreateRepositoryCommandInput): Promise<boolean>
  putRepositoryCatalogData(request: PutRepositoryCatalogDataCommandInput): Promise<void>
}

/** A call after CreateRepository failed: whether AWS denied it, and its reason (one line). */
export class FollowUpError extends Error {
  constructor(
    readonly action: string,
    readonly denied: boolean,
    readonly reason: string
  ) {
    super(`${action} failed: ${reason}`)
    this.name = 'FollowUpError'
  }
}

async function followUp(action: string, send: () => Promise<unknown>): Promise<void> {
  try {
    await send()
  } catch (error) {
    const e = error as AwsError
    const denied = e?.name === 'AccessDeniedException' || e?.$metadata?.httpStatusCode === 403
    throw new FollowUpError(action, denied, `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`)
  }
}

interface AwsError {
  name?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
}

/**
 * Decodes an ECR authorization token (base64 of `user:password`) and masks both
 * forms at once, before anything else can print them.
 */
export function decodeAuthorizationToken(token: string): { username: string; password: string } {
  core.setSecret(token)
  const decoded = Buffer.from(token, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) throw new Error('ECR returned an authorization token that is not user:password')
  const password = decoded.slice(colon + 1)
  core.setSecret(password)
  return { username: decoded.slice(0, colon), password }
}

/** True when the SDK will use an endpoint from the environment (then FIPS/dual-stack flags must stay off). */
function endpointOverridden(serviceEnv: string): boolean {
  return Boolean(process.env[`AWS_ENDPOINT_URL_${serviceEnv}`] || process.env.AWS_ENDPOINT_URL)
}

/** Turns an AWS SDK error into a one-line message that names the fix. */
export function describeAwsError(error: unknown, action: string, region: string): Error {
  const e = error as AwsError
  const name = e?.name ?? 'Error'
  const message = e?.message ?? String(error)
  if (error instanceof ProxyConnectError || name === 'ProxyConnectError') {
    return new UserError(`${action} in ${region}: ${message}`)
  }
  if (
    /self[- ]signed certificate|unable to get local issuer certificate|unable to verify the first certificate|CERT_|certificate has expired/i.test(
      `${name} ${message} ${(error as { code?: string })?.code ?? ''}`
    )
  ) {
    return new UserError(
      `The TLS certificate of the AWS API for ${action} in ${region} is not trusted (${message}): behind a TLS-inspecting proxy, set AWS_CA_BUNDLE (or NODE_EXTRA_CA_CERTS) to a PEM file with the proxy's CA.`
    )
  }
  const credentialHint =
    'configure AWS credentials for the job (e.g. aws-actions/configure-aws-credentials with a role that allows it)'
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new MissingCredentialsError(`No AWS credentials found for ${action}: ${credentialHint}.`)
  }
  if (
    [
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'ExpiredTokenException',
      'InvalidClientTokenId',
      'SignatureDoesNotMatch'
    ].includes(name)
  ) {
    return new UserError(
      `AWS rejected the credentials for ${action} in ${region} (${name}: ${message}): ${credentialHint}.`
    )
  }
  if (name === 'AccessDeniedException' || e?.$metadata?.httpStatusCode === 403) {
    return new UserError(
      `AWS denied ${action} in ${region} (${message}): grant the permission to the job's role (see the README's IAM policy).`
    )
  }
  if (
    /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|getaddrinfo/i.test(`${name} ${message}`)
  ) {
    return new UserError(
      `Could not reach the ECR API for ${action} in ${region} (${message}): check "region" (or the region in "registry") and the runner's network or proxy.`
    )
  }
  return new Error(`${action} failed in ${region}: ${name}: ${message}`)
}

/**
 * CreateRepository (where "already exists" is success: false) and DescribeImages for one tag
 * (undefined when the tag or the repository is absent), as both ECR flavours answer them.
 */
function repositoryCalls<Create extends { repositoryName: string | undefined }>(
  service: 'ecr' | 'ecr-public',
  region: string,
  create: (request: Create) => Promise<unknown>,
  describe: (
    repositoryName: string,
    imageTag: string
  ) => Promise<{ imageDetails?: { imageDigest?: string }[] }>
) {
  return {
    async createRepository(request: Create): Promise<boolean> {
      try {
        await create(request)
        return true
      } catch (error) {
        if ((error as AwsError).name === 'RepositoryAlreadyExistsException') return false
        const action = `${service}:CreateRepository for "${request.repositoryName}"`
        throw describeAwsError(error, action, region)
      }
    },
    async findTag(repositoryName: string, imageTag: string): Promise<string | undefined> {
      let digest: string | undefined
      try {
        digest = (await describe(repositoryName, imageTag)).imageDetails?.[0]?.imageDigest
      } catch (error) {
        const name = (error as AwsError).name
        if (name === 'ImageNotFoundException' || name === 'RepositoryNotFoundException')
          return undefined
        const action = `${service}:DescribeImages for "${repositoryName}"`
        throw describeAwsError(error, action, region)
      }
      // Registry text is data: it reaches the log, the outputs and the summary.
      if (digest !== undefined && !isDigest(digest)) {
        throw new Error(
          `${service}:DescribeImages for "${repositoryName}" in ${region} gave a malformed digest (${oneLine(digest).slice(0, 80)})`
        )
      }
      return digest
    }
  }
}

async function callAws<T>(action: string, region: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    throw describeAwsError(error, action, region)
  }
}

/** Private Amazon ECR through @aws-sdk/client-ecr, loaded only when needed. */
export async function privateEcr(region: string, host?: EcrHost): Promise<PrivateEcrApi> {
  const sdk = await import('@aws-sdk/client-ecr')
  const custom = endpointOverridden('ECR')
  const client = new sdk.ECRClient({
    region,
    customUserAgent: USER_AGENT,
    maxAttempts: attempts(RETRY.awsApi),
    requestHandler: await awsRequestHandler(),
    // Only ever turn these on: an explicit false would override AWS_USE_FIPS_ENDPOINT and
    // AWS_USE_DUALSTACK_ENDPOINT from the job's environment.
    ...(!custom && host?.fips ? { useFipsEndpoint: true } : {}),
    ...(!custom && host?.dualStack ? { useDualstackEndpoint: true } : {})
  })
  const registryId = host?.accountId
  return {
    async login() {
      const out = await callAws('ecr:GetAuthorizationToken', region, () =>
        client.send(new sdk.GetAuthorizationTokenCommand({}))
      )
      const data = out.authorizationData?.[0]
      if (!data?.authorizationToken || !data.proxyEndpoint) {
        throw new Error(`ecr:GetAuthorizationToken in ${region} returned no authorization data`)
      }
      // A token is valid for every registry the principal may reach; an explicit host wins.
      return {
        host: host?.host ?? hostFromProxyEndpoint(data.proxyEndpoint),
        ...decodeAuthorizationToken(data.authorizationToken)
      }
    },
    ...repositoryCalls(
      'ecr',
      region,
      (request: CreateRepositoryCommandInput) =>
        client.send(new sdk.CreateRepositoryCommand(request)),
      (repositoryName, imageTag) =>
        client.send(
          new sdk.DescribeImagesCommand({ repositoryName, registryId, imageIds: [{ imageTag }] })
        )
    ),
    putLifecyclePolicy: request =>
      followUp('ecr:PutLifecyclePolicy', () =>
        client.send(new sdk.PutLifecyclePolicyCommand(request))
      ),
    setRepositoryPolicy: request =>
      followUp('ecr:SetRepositoryPolicy', () =>
        client.send(new sdk.SetRepositoryPolicyCommand(request))
      )
  }
}

/** Amazon ECR Public: its API answers only in us-east-1. */
export async function publicEcr(host: string): Promise<PublicEcrApi> {
  const sdk = await import('@aws-sdk/client-ecr-public')
  const region = 'us-east-1'
  const client = new sdk.ECRPUBLICClient({
    region,
    customUserAgent: USER_AGENT,
    maxAttempts: attempts(RETRY.awsApi),
    requestHandler: await awsRequestHandler()
  })
  return {
    async login() {
      const out = await callAws('ecr-public:GetAuthorizationToken', region, () =>
        client.send(new sdk.GetAuthorizationTokenCommand({}))
      )
      const token = out.authorizationData?.authorizationToken
      if (!token) throw new Error('ecr-public:GetAuthorizationToken returned no authorization data')
      return { host, ...decodeAuthorizationToken(token) }
    },
    ...repositoryCalls(
      'ecr-public',
      region,
      (request: PublicCreateRepositoryCommandInput) =>
        client.send(new sdk.CreateRepositoryCommand(request)),
      (repositoryName, imageTag) =>
        client.send(new sdk.DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] }))
    ),
    putRepositoryCatalogData: request =>
      followUp('ecr-public:PutRepositoryCatalogData', () =>
        client.send(new sdk.PutRepositoryCatalogDataCommand(request))
      )
  }
}
