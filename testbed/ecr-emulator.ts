/**
 * A local stand-in for Amazon ECR: the AWS JSON 1.1 API (SigV4-verified) on one port, and an
 * ECR-like registry front ("gate") on another that enforces ECR's auth, repository and
 * immutability rules and forwards everything else to a real distribution registry.
 *
 * The gate serves TLS and plain HTTP on the same port (first byte 0x16 = TLS handshake): Helm
 * 3.9.4 talks plain HTTP to 127.0.0.1 on its own, Helm 3.18/4.x talk HTTPS and trust the test CA
 * through SSL_CERT_FILE.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import path from 'node:path'
import { fail, readBody, send } from '../src/dry-run/oci-wire.js'
import { asReferrer, referrersPage, type Referrer } from '../src/dry-run/referrers.js'
import type { TestCerts } from './certs.js'
import { closeServer, request, type SimpleResponse } from './net-util.js'
import { makeTempDir } from './paths.js'
import { forwardTo } from './registry-forward.js'
import type { Registry } from './registry.js'
import { verifySigV4, type TestCredentials } from './sigv4.js'

export const TEST_CREDENTIALS: TestCredentials = {
  accessKeyId: 'AKIDEMULATOR0000TEST',
  secretAccessKey: 'emulatorSecretKey/0000/TEST/do-not-use-anywhere-else'
}

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921'
/** ECR Public's JSON 1.1 target prefix (signing name ecr-public); its operations are recorded as `ecr-public:<Op>`. */
export const ECR_PUBLIC_TARGET_PREFIX = 'SpencerFrontendService'
/** The ECR RepositoryName pattern (2–256 characters). */
export const ECR_REPOSITORY_NAME_RE =
  /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/

const TOKEN_TTL_MS = 12 * 60 * 60 * 1000
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json'
].join(', ')

export type TagMutability = 'MUTABLE' | 'IMMUTABLE'

export interface EmulatedRepository {
  name: string
  mutability: TagMutability
  createdAt: Date
  /** Resource tags given to CreateRepository ({Key, Value}) or TagResource. */
  tags: { Key: string; Value: string }[]
  /** Image tags pushed through the gate (PUT manifests/<tag> that succeeded), in order. */
  imageTags: string[]
  scanOnPush: boolean
  encryption: { encryptionType: string; kmsKey?: string }
  /** As PutLifecyclePolicy received it. */
  lifecyclePolicyText?: string
  /** As SetRepositoryPolicy received it. */
  policyText?: string
  /** The region CreateRepository was signed for, and its partition (ARNs). */
  region: string
  partition: string
}

/** An ECR Public repository (API only: the gate serves private ECR). */
export interface EmulatedPublicRepository {
  name: string
  createdAt: Date
  tags: { Key: string; Value: string }[]
  /** As CreateRepository or PutRepositoryCatalogData set it. */
  catalogData?: Record<string, unknown>
}

export type ReferrerDescriptor = Referrer['descriptor']

export interface ApiCall {
  /** The operation: `CreateRepository` for private ECR, `ecr-public:CreateRepository` for ECR Public. */
  op: string
  /** The region the request was signed for. */
  region?: string
  /** The request body (ECR requests carry no secrets). */
  input?: Record<string, unknown>
  status: number
  /** AWS error code when status ≠ 200. */
  error?: string
  at: Date
}

export interface RegistryRequest {
  method: string
  /** Path without query string (no upload state, no secrets). */
  path: string
  status: number
  tls: boolean
}

export interface EcrFaults {
  /** The next n API calls (optionally only of `op`) fail with 400 ThrottlingException. */
  apiThrottle(n: number, op?: string): void
  /** The next n API calls (optionally only of `op`) fail with 500 ServerException. */
  api5xx(n: number, op?: string): void
  /**
   * Calls of `op` (as ApiCall.op names it; `op@region` for calls signed for one region) answer 400
   * AccessDeniedException, as an IAM denial does; n times, or until clear().
   */
  accessDenied(op: string, n?: number): void
  /** The next n POST/PATCH/PUT requests under /v2/<repo>/blobs/uploads/ answer 503. */
  blobUpload503(n: number): void
  /**
   * Fails the next n "Tag step" requests with 404 MANIFEST_UNKNOWN. A Tag-step request is either
   * a PUT /v2/<repo>/manifests/<tag> (Helm 3.9, ORAS v1, tags in one PUT) or a GET/HEAD of
   * /v2/<repo>/manifests/sha256:<d> where <d> was just PUT by digest in that repository and has
   * not been tagged yet (Helm ≥3.18 / 4, ORAS v2 "Tag": fetch by digest, then PUT by tag). So one
   * push attempt consumes exactly one fault, and a retried push succeeds once n are used up.
   */
  tagStep(n: number): void
  /** The next n tokens GetAuthorizationToken returns are already expired (the gate answers 401). */
  expiredTokens(n: number): void
  /** The gate resets every open and new connection until registryUp(). */
  registryDown(): void
  registryUp(): void
  /** Turns every fault off. */
  clear(): void
}

export interface EcrEmulator {
  accountId: string
  region: string
  /** http://127.0.0.1:P — the AWS JSON 1.1 API endpoint. */
  apiUrl: string
  /** https://127.0.0.1:Q — the same API over TLS (the test certificate). */
  apiTlsUrl: string
  /** 127.0.0.1:G — the ECR-like registry front (TLS and plain HTTP on one port). */
  registryHost: string
  /** https://127.0.0.1:G (or https://registryName) — what GetAuthorizationToken returns as proxyEndpoint. */
  proxyEndpoint: string
  credentials: TestCredentials
  /** What the action (or an AWS SDK client) needs to reach the emulator. */
  env: Record<string, string>
  faults: EcrFaults
  /** Expires every token issued so far (the gate then answers 401). */
  expireTokens(): void
  /** Issues a token directly (without an API call); returns the password. */
  issueToken(): { username: 'AWS'; password: string; expiresAt: Date }
  /** Snapshot of the repositories, by name. */
  repositories(): Record<string, EmulatedRepository>
  /** Snapshot of the ECR Public repositories, by name. */
  publicRepositories(): Record<string, EmulatedPublicRepository>
  /** The inputs of every successful call of `op`, in order. */
  requestsOf(op: string): Record<string, unknown>[]
  /** Every API call so far, in order (live array). */
  readonly apiCalls: ApiCall[]
  /** Number of API calls per operation. */
  apiCallCounts(): Record<string, number>
  /** Every request the gate answered, in order (live array). Never holds credentials. */
  readonly registryRequests: RegistryRequest[]
  /** Descriptors of the manifests whose subject is `digest` (what the referrers API lists). */
  referrers(repo: string, digest: string): ReferrerDescriptor[]
  /** Forgets repositories, tokens, calls, requests and faults; empties the backend storage. */
  reset(): Promise<void>
  stop(): Promise<void>
}

export interface StartEcrEmulatorOptions {
  /** A plain-HTTP registry from startRegistry(). */
  backend: Registry
  certs: TestCerts
  accountId?: string
  region?: string
  /**
   * Serve the OCI 1.1 referrers API (GET /v2/<repo>/referrers/<digest>, OCI-Subject on manifest
   * PUTs with a subject), as ECR does since 2024 (default true). When false, /referrers/ reaches
   * the backend, which answers 404 like distribution 2.8, and clients use the tag schema.
   */
  referrersApi?: boolean
  /**
   * The registry host GetAuthorizationToken returns in proxyEndpoint (https://NAME), for tests
   * that reach the gate by name through a proxy. Default: 127.0.0.1:<gate port>.
   */
  registryName?: string
}

class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400
  ) {
    super(message)
  }
}

interface Counter {
  n: number
  op?: string
}

/** The partition of a region, as AWS names it in ARNs. */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('us-gov-')) return 'aws-us-gov'
  if (region.startsWith('cn-')) return 'aws-cn'
  if (region.startsWith('us-isob-')) return 'aws-iso-b'
  if (region.startsWith('us-iso-')) return 'aws-iso'
  if (region.startsWith('eusc-')) return 'aws-eusc'
  return 'aws'
}

const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u

export async function startEcrEmulator(opts: StartEcrEmulatorOptions): Promise<EcrEmulator> {
  const { backend, certs } = opts
  if (backend.tls) throw new Error('startEcrEmulator needs a plain-HTTP backend registry')
  const accountId = opts.accountId ?? '123456789012'
  const region = opts.region ?? 'eu-west-2'
  const [cert, key] = await Promise.all([readFile(certs.certFile), readFile(certs.keyFile)])
  const awsDir = await makeTempDir('aws-config')

  const repos = new Map<string, EmulatedRepository>()
  const publicRepos = new Map<string, EmulatedPublicRepository>()
  const tokens = new Map<string, number>() // password -> expiresAt (ms)
  const apiCalls: ApiCall[] = []
  const registryRequests: RegistryRequest[] = []
  const pushedAt = new Map<string, Date>() // `${repo}:${tag}` -> time
  const pendingDigest = new Map<string, string>() // repo -> digest PUT by digest, not yet tagged
  const referrersApi = opts.referrersApi ?? true
  const referrers = new Map<string, ReferrerDescriptor[]>() // `${repo}@${subject}` -> descriptors
  const faultState = {
    throttle: [] as Counter[],
    fiveHundred: [] as Counter[],
    denied: [] as Counter[],
    blob503: 0,
    tagStep: 0,
    expiredTokens: 0,
    down: false
  }

  // ---------------------------------------------------------------- the AWS JSON 1.1 API
  const apiHandler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > 1024 * 1024) req.destroy()
      else chunks.push(c)
    })
    req.on('end', () => {
      void handleApi(req, Buffer.concat(chunks)).then(
        ({ status, body, op, error, region: signedRegion, input }) => {
          apiCalls.push({ op, region: signedRegion, input, status, error, at: new Date() })
          const headers: Record<string, string> = {
            'content-type': 'application/x-amz-json-1.1',
            'x-amzn-requestid': randomUUID()
          }
          if (error) headers['x-amzn-errortype'] = error
          res.writeHead(status, headers)
          res.end(JSON.stringify(body))
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(`emulator bug: ${String(err)}`)
        }
      )
    })
  }
  const apiServer = http.createServer(apiHandler)
  const apiTlsServer = https.createServer({ cert, key }, apiHandler)

  function takeFault(list: Counter[], op: string): boolean {
    const i = list.findIndex(c => c.n > 0 && (!c.op || c.op === op))
    if (i < 0) return false
    list[i].n--
    if (list[i].n <= 0) list.splice(i, 1)
    return true
  }

  async function handleApi(
    req: http.IncomingMessage,
    body: Buffer
  ): Promise<{
    status: number
    body: unknown
    op: string
    error?: string
    region?: string
    input?: Record<string, unknown>
  }> {
    const target = String(req.headers['x-amz-target'] ?? '')
    const isPublic = target.startsWith(`${ECR_PUBLIC_TARGET_PREFIX}.`)
    const op = target.startsWith(`${ECR_TARGET_PREFIX}.`)
      ? target.slice(ECR_TARGET_PREFIX.length + 1)
      : isPublic
        ? `ecr-public:${target.slice(ECR_PUBLIC_TARGET_PREFIX.length + 1)}`
        : target || '(none)'
    let signedRegion: string | undefined
    let input: Record<string, unknown> | undefined
    try {
      if (req.method !== 'POST') throw new AwsError('UnknownOperationException', 'Use POST')
      const auth = await verifySigV4(
        { method: req.method, url: req.url ?? '/', headers: req.headers, body },
        TEST_CREDENTIALS,
        isPublic ? 'ecr-public' : 'ecr'
      )
      if (!auth.ok)
        throw new AwsError(auth.code, auth.message, auth.code.startsWith('Missing') ? 403 : 400)
      signedRegion = auth.region
      if (!target.startsWith(`${ECR_TARGET_PREFIX}.`) && !isPublic) {
        throw new AwsError('UnknownOperationException', `Unknown operation ${target}`)
      }
      try {
        input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {}
      } catch {
        throw new AwsError('SerializationException', 'Malformed JSON request body')
      }
      if (takeFault(faultState.throttle, op))
        throw new AwsError('ThrottlingException', 'Rate exceeded')
      if (takeFault(faultState.fiveHundred, op)) {
        throw new AwsError('ServerException', 'Internal service error (injected fault)', 500)
      }
      // `op@region` denies the calls signed for that region only.
      if (
        takeFault(faultState.denied, op) ||
        takeFault(faultState.denied, `${op}@${auth.region}`)
      ) {
        const action = op.includes(':') ? op : `ecr:${op}`
        const name = typeof input.repositoryName === 'string' ? input.repositoryName : '*'
        throw new AwsError(
          'AccessDeniedException',
          `User: arn:${partitionOfRegion(auth.region)}:sts::${accountId}:assumed-role/e2e-publisher/e2e is not authorized to perform: ${action} on resource: ${repositoryArn(auth.region, name, isPublic)} because no identity-based policy allows the ${action} action`
        )
      }
      const out = isPublic
        ? dispatchPublic(op.slice('ecr-public:'.length), input)
        : await dispatch(op, input, auth.region)
      return { status: 200, body: out, op, region: signedRegion, input }
    } catch (error) {
      if (error instanceof AwsError) {
        return {
          status: error.status,
          body: { __type: error.code, message: error.message },
          op,
          error: error.code,
          region: signedRegion,
          input
        }
      }
      return {
        status: 500,
        body: { __type: 'ServerException', message: String(error) },
        op,
        error: 'ServerException',
        region: signedRegion,
        input
      }
    }
  }

  function repositoryArn(signedRegion: string, name: string, isPublic = false): string {
    return isPublic
      ? `arn:aws:ecr-public::${accountId}:repository/${name}`
      : `arn:${partitionOfRegion(signedRegion)}:ecr:${signedRegion}:${accountId}:repository/${name}`
  }

  function repositoryJson(r: EmulatedRepository): Record<string, unknown> {
    return {
      repositoryArn: `arn:${r.partition}:ecr:${r.region}:${accountId}:repository/${r.name}`,
      registryId: accountId,
      repositoryName: r.name,
      repositoryUri: `${registryHost}/${r.name}`,
      createdAt: r.createdAt.getTime() / 1000,
      imageTagMutability: r.mutability,
      imageScanningConfiguration: { scanOnPush: r.scanOnPush },
      encryptionConfiguration: { ...r.encryption }
    }
  }

  function invalidParameter(field: string, constraint: string): AwsError {
    return new AwsError(
      'InvalidParameterException',
      `Invalid parameter at '${field}' failed to satisfy constraint: '${constraint}'`
    )
  }

  /** ECR's Tag rules (CreateRepository and TagResource): InvalidTagParameterException / TooManyTagsException. */
  function validateTags(value: unknown, existing = 0): { Key: string; Value: string }[] {
    if (value === undefined) return []
    if (!Array.isArray(value)) throw invalidParameter('tags', 'Member must be a list')
    const tags = value as { Key?: unknown; Value?: unknown }[]
    for (const t of tags) {
      const key = t?.Key
      const val = t?.Value ?? ''
      if (
        typeof key !== 'string' ||
        typeof val !== 'string' ||
        [...key].length < 1 ||
        [...key].length > 128 ||
        [...val].length > 256 ||
        !TAG_TEXT.test(key) ||
        !TAG_TEXT.test(val) ||
        key.toLowerCase().startsWith('aws:')
      ) {
        throw new AwsError(
          'InvalidTagParameterException',
          `Invalid tag: ${JSON.stringify(t)}. Tag keys must be 1-128 and values 0-256 characters from the allowed set, and keys may not start with 'aws:'.`
        )
      }
    }
    if (tags.length + existing > 50) {
      throw new AwsError('TooManyTagsException', 'A repository can have at most 50 tags.')
    }
    return tags.map(t => ({ Key: t.Key as string, Value: (t.Value as string | undefined) ?? '' }))
  }

  function validateEncryption(value: unknown): { encryptionType: string; kmsKey?: string } {
    if (value === undefined) return { encryptionType: 'AES256' }
    const e = value as { encryptionType?: unknown; kmsKey?: unknown }
    if (!['AES256', 'KMS', 'KMS_DSSE'].includes(String(e.encryptionType))) {
      throw invalidParameter(
        'encryptionConfiguration.encryptionType',
        'Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]'
      )
    }
    if (e.kmsKey !== undefined) {
      if (e.encryptionType === 'AES256') {
        throw new AwsError(
          'InvalidParameterException',
          'Invalid parameter: kmsKey can only be specified when encryptionType is KMS or KMS_DSSE'
        )
      }
      if (typeof e.kmsKey !== 'string' || e.kmsKey.length < 1 || e.kmsKey.length > 2048) {
        throw invalidParameter(
          'encryptionConfiguration.kmsKey',
          'Member must have length between 1 and 2048'
        )
      }
      return { encryptionType: String(e.encryptionType), kmsKey: e.kmsKey }
    }
    return { encryptionType: String(e.encryptionType) }
  }

  /**
   * What ECR checks of a repository policy here: JSON, statements with ecr: actions, and
   * principals that are `*` or IAM ARNs (or account IDs) of the repository's partition.
   */
  function validateRepositoryPolicy(text: unknown, partition: string): string {
    const invalid = (): AwsError =>
      invalidParameter('PolicyText', 'Invalid repository policy provided')
    if (typeof text !== 'string' || text.length < 1 || text.length > 10240) {
      throw invalidParameter('policyText', 'Member must have length between 0 and 10240')
    }
    let doc: { Statement?: unknown }
    try {
      doc = JSON.parse(text) as { Statement?: unknown }
    } catch {
      throw invalid()
    }
    const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]
    if (statements.length === 0 || statements.some(st => !st || typeof st !== 'object')) {
      throw invalid()
    }
    for (const st of statements as Record<string, unknown>[]) {
      if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw invalid()
      const actions = ([] as unknown[]).concat(st.Action)
      if (
        actions.length === 0 ||
        actions.some(a => typeof a !== 'string' || !/^ecr:\w+$/.test(a))
      ) {
        throw invalid()
      }
      const principal = st.Principal
      if (principal === '*') continue
      const aws = ([] as unknown[]).concat((principal as { AWS?: unknown } | undefined)?.AWS)
      if (aws.length === 0) throw invalid()
      for (const p of aws) {
        if (typeof p !== 'string') throw invalid()
        if (/^\d{12}$/.test(p) || p === '*') continue
        const m = /^arn:([a-z-]+):iam::(\d{12}):(root|role\/.+|user\/.+)$/.exec(p)
        // A principal in another partition does not exist for ECR: the policy is refused.
        if (!m || m[1] !== partition) throw invalid()
      }
    }
    return text
  }

  function validateLifecyclePolicy(text: unknown): string {
    if (typeof text !== 'string' || text.length < 100 || text.length > 30720) {
      throw invalidParameter('lifecyclePolicyText', 'Member must have length between 100 and 30720')
    }
    let doc: { rules?: unknown }
    try {
      doc = JSON.parse(text) as { rules?: unknown }
    } catch {
      throw new AwsError(
        'InvalidParameterException',
        'Invalid parameter at LifecyclePolicyText failed to satisfy constraint: Lifecycle policy validation failure: invalid JSON'
      )
    }
    if (!Array.isArray(doc.rules) || doc.rules.length === 0) {
      throw new AwsError(
        'InvalidParameterException',
        'Invalid parameter at LifecyclePolicyText failed to satisfy constraint: Lifecycle policy validation failure: object has missing required properties (["rules"])'
      )
    }
    return text
  }

  function publicRepositoryJson(r: EmulatedPublicRepository): Record<string, unknown> {
    return {
      repositoryArn: `arn:aws:ecr-public::${accountId}:repository/${r.name}`,
      registryId: accountId,
      repositoryName: r.name,
      repositoryUri: `public.ecr.aws/e2e-alias/${r.name}`,
      createdAt: r.createdAt.getTime() / 1000
    }
  }

  function validateCatalogData(value: unknown): Record<string, unknown> {
    const data = (value ?? {}) as Record<string, unknown>
    for (const [field, max] of [
      ['description', 1024],
      ['aboutText', 25600],
      ['usageText', 25600]
    ] as const) {
      const text = data[field]
      if (text !== undefined && (typeof text !== 'string' || text.length > max)) {
        throw invalidParameter(
          `catalogData.${field}`,
          `Member must have length less than or equal to ${max}`
        )
      }
    }
    return { ...data }
  }

  function dispatchPublic(op: string, input: Record<string, unknown>): unknown {
    switch (op) {
      case 'GetAuthorizationToken': {
        const t = issueToken()
        return {
          authorizationData: {
            authorizationToken: Buffer.from(`AWS:${t.password}`).toString('base64'),
            expiresAt: t.expiresAt.getTime() / 1000
          }
        }
      }
      case 'CreateRepository': {
        const name = validateName(input.repositoryName)
        if (name.length > 205)
          throw invalidParameter(
            'repositoryName',
            'Member must have length less than or equal to 205'
          )
        if (publicRepos.has(name)) {
          throw new AwsError(
            'RepositoryAlreadyExistsException',
            `The repository with name '${name}' already exists in the registry with id '${accountId}'`
          )
        }
        const repo: EmulatedPublicRepository = {
          name,
          createdAt: new Date(),
          tags: validateTags(input.tags),
          ...(input.catalogData ? { catalogData: validateCatalogData(input.catalogData) } : {})
        }
        publicRepos.set(name, repo)
        return { repository: publicRepositoryJson(repo), catalogData: repo.catalogData ?? {} }
      }
      case 'PutRepositoryCatalogData': {
        const repo = requirePublicRepository(input.repositoryName)
        repo.catalogData = validateCatalogData(input.catalogData)
        return { catalogData: repo.catalogData }
      }
      case 'DescribeRepositories': {
        const names = input.repositoryNames
        const list = Array.isArray(names)
          ? names.map(n => requirePublicRepository(n))
          : [...publicRepos.values()]
        return { repositories: list.map(publicRepositoryJson) }
      }
      case 'DescribeImages': {
        const repo = requirePublicRepository(input.repositoryName)
        const id = (input.imageIds as { imageTag?: string }[] | undefined)?.[0]
        throw new AwsError(
          'ImageNotFoundException',
          `The image with imageId {imageTag=${id?.imageTag ?? ''}} does not exist within the repository with name '${repo.name}' in the registry with id '${accountId}'`
        )
      }
      default:
        throw new AwsError(
          'UnknownOperationException',
          `Operation ecr-public:${op} is not supported by the emulator`
        )
    }
  }

  /** A repository of `map` by name, or ECR's RepositoryNotFoundException (both flavours). */
  function requireIn<R>(map: Map<string, R>, name: unknown): R {
    const repo = typeof name === 'string' ? map.get(name) : undefined
    if (!repo) {
      throw new AwsError(
        'RepositoryNotFoundException',
        `The repository with name '${String(name)}' does not exist in the registry with id '${accountId}'`
      )
    }
    return repo
  }

  const requireRepository = (name: unknown): EmulatedRepository => requireIn(repos, name)
  const requirePublicRepository = (name: unknown): EmulatedPublicRepository =>
    requireIn(publicRepos, name)

  function validateName(name: unknown): string {
    if (
      typeof name !== 'string' ||
      name.length < 2 ||
      name.length > 256 ||
      !ECR_REPOSITORY_NAME_RE.test(name)
    ) {
      throw new AwsError(
        'InvalidParameterException',
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${ECR_REPOSITORY_NAME_RE.source.slice(1, -1)}''`
      )
    }
    return name
  }

  async function dispatch(
    op: string,
    input: Record<string, unknown>,
    signedRegion: string
  ): Promise<unknown> {
    switch (op) {
      case 'GetAuthorizationToken': {
        const t = issueToken()
        if (faultState.expiredTokens > 0) {
          faultState.expiredTokens--
          t.expiresAt = new Date(Date.now() - 1000)
          tokens.set(t.password, t.expiresAt.getTime())
        }
        return {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${t.password}`).toString('base64'),
              expiresAt: t.expiresAt.getTime() / 1000,
              proxyEndpoint
            }
          ]
        }
      }
      case 'CreateRepository': {
        const name = validateName(input.repositoryName)
        const mutability = input.imageTagMutability ?? 'MUTABLE'
        if (mutability !== 'MUTABLE' && mutability !== 'IMMUTABLE') {
          throw new AwsError(
            'InvalidParameterException',
            `Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE]'`
          )
        }
        if (repos.has(name)) {
          throw new AwsError(
            'RepositoryAlreadyExistsException',
            `The repository with name '${name}' already exists in the registry with id '${accountId}'`
          )
        }
        const tags = validateTags(input.tags)
        const scanning = input.imageScanningConfiguration as { scanOnPush?: unknown } | undefined
        if (scanning !== undefined && typeof scanning.scanOnPush !== 'boolean') {
          throw invalidParameter(
            'imageScanningConfiguration.scanOnPush',
            'Member must be a boolean'
          )
        }
        const repo: EmulatedRepository = {
          name,
          mutability,
          createdAt: new Date(),
          tags,
          imageTags: [],
          scanOnPush: scanning?.scanOnPush === true,
          encryption: validateEncryption(input.encryptionConfiguration),
          region: signedRegion,
          partition: partitionOfRegion(signedRegion)
        }
        repos.set(name, repo)
        return { repository: repositoryJson(repo) }
      }
      case 'PutLifecyclePolicy': {
        const repo = requireRepository(input.repositoryName)
        repo.lifecyclePolicyText = validateLifecyclePolicy(input.lifecyclePolicyText)
        return {
          registryId: accountId,
          repositoryName: repo.name,
          lifecyclePolicyText: repo.lifecyclePolicyText
        }
      }
      case 'GetLifecyclePolicy': {
        const repo = requireRepository(input.repositoryName)
        if (!repo.lifecyclePolicyText) {
          throw new AwsError(
            'LifecyclePolicyNotFoundException',
            `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${accountId}'`
          )
        }
        return {
          registryId: accountId,
          repositoryName: repo.name,
          lifecyclePolicyText: repo.lifecyclePolicyText
        }
      }
      case 'SetRepositoryPolicy': {
        const repo = requireRepository(input.repositoryName)
        repo.policyText = validateRepositoryPolicy(
          input.policyText,
          partitionOfRegion(signedRegion)
        )
        return { registryId: accountId, repositoryName: repo.name, policyText: repo.policyText }
      }
      case 'GetRepositoryPolicy': {
        const repo = requireRepository(input.repositoryName)
        if (!repo.policyText) {
          throw new AwsError(
            'RepositoryPolicyNotFoundException',
            `Repository policy does not exist for the repository with name '${repo.name}' in the registry with id '${accountId}'`
          )
        }
        return { registryId: accountId, repositoryName: repo.name, policyText: repo.policyText }
      }
      case 'TagResource': {
        const arn = String(input.resourceArn ?? '')
        const m = /^arn:([a-z-]+):ecr:([a-z0-9-]+):(\d{12}):repository\/(.+)$/.exec(arn)
        if (
          !m ||
          m[1] !== partitionOfRegion(signedRegion) ||
          m[2] !== signedRegion ||
          m[3] !== accountId
        ) {
          throw new AwsError(
            'InvalidParameterException',
            `Invalid parameter at 'resourceArn': ${arn}`
          )
        }
        const repo = requireRepository(m[4])
        const tags = validateTags(input.tags)
        const merged = new Map(repo.tags.map(t => [t.Key, t.Value]))
        for (const t of tags) merged.set(t.Key, t.Value)
        if (merged.size > 50)
          throw new AwsError('TooManyTagsException', 'A repository can have at most 50 tags.')
        repo.tags = [...merged].map(([Key, Value]) => ({ Key, Value }))
        return {}
      }
      case 'ListTagsForResource': {
        const name = /:repository\/(.+)$/.exec(String(input.resourceArn ?? ''))?.[1]
        return { tags: requireRepository(name).tags }
      }
      case 'DescribeRepositories': {
        const names = input.repositoryNames
        const list = Array.isArray(names)
          ? names.map(n => requireRepository(n))
          : [...repos.values()]
        return { repositories: list.map(repositoryJson) }
      }
      case 'DeleteRepository': {
        const repo = requireRepository(input.repositoryName)
        repos.delete(repo.name)
        await removeBackendRepository(repo.name)
        return { repository: repositoryJson(repo) }
      }
      case 'DescribeImages':
        return describeImages(input)
      default:
        throw new AwsError(
          'UnknownOperationException',
          `Operation ${op} is not supported by the emulator`
        )
    }
  }

  async function backendFetch(
    method: string,
    p: string,
    headers: Record<string, string> = {}
  ): Promise<SimpleResponse> {
    return request(`${backend.url}${p}`, {
      method,
      headers: { ...headers, authorization: backend.authorization }
    })
  }

  async function imageDetail(
    repo: EmulatedRepository,
    reference: string
  ): Promise<Record<string, unknown> | undefined> {
    const res = await backendFetch('GET', `/v2/${repo.name}/manifests/${reference}`, {
      accept: MANIFEST_ACCEPT
    })
    if (res.status === 404) return undefined
    if (res.status !== 200)
      throw new AwsError('ServerException', `backend answered ${res.status}`, 500)
    const digest =
      String(res.headers['docker-content-digest'] ?? '') ||
      `sha256:${createHash('sha256').update(res.body).digest('hex')}`
    let manifest: {
      mediaType?: string
      config?: { mediaType?: string; size?: number }
      layers?: { size?: number }[]
    } = {}
    try {
      manifest = JSON.parse(res.body.toString('utf8')) as typeof manifest
    } catch {
      // not JSON: report what we can
    }
    // Every tag pushed through the gate that points at this digest (ECR lists them all).
    const tags = repo.imageTags.filter(t => pushedDigest.get(`${repo.name}:${t}`) === digest)
    if (!reference.startsWith('sha256:') && !tags.includes(reference)) tags.unshift(reference)
    const at = pushedAt.get(`${repo.name}:${tags[0] ?? ''}`) ?? new Date()
    return {
      registryId: accountId,
      repositoryName: repo.name,
      imageDigest: digest,
      imageTags: tags,
      imagePushedAt: at.getTime() / 1000,
      imageManifestMediaType:
        manifest.mediaType ?? String(res.headers['content-type'] ?? OCI_MANIFEST),
      artifactMediaType: manifest.config?.mediaType,
      imageSizeInBytes:
        (manifest.layers ?? []).reduce((sum, l) => sum + (l.size ?? 0), 0) +
        (manifest.config?.size ?? 0)
    }
  }

  async function describeImages(input: Record<string, unknown>): Promise<unknown> {
    const repo = requireRepository(input.repositoryName)
    let ids = Array.isArray(input.imageIds)
      ? (input.imageIds as { imageTag?: string; imageDigest?: string }[])
      : undefined
    if (!ids) {
      const res = await backendFetch('GET', `/v2/${repo.name}/tags/list`)
      const list =
        res.status === 200
          ? ((JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null }).tags ?? [])
          : []
      ids = list.map(imageTag => ({ imageTag }))
    }
    const imageDetails: Record<string, unknown>[] = []
    for (const id of ids) {
      const reference = id.imageTag ?? id.imageDigest
      if (!reference)
        throw new AwsError('InvalidParameterException', 'imageId needs imageTag or imageDigest')
      const detail = await imageDetail(repo, reference)
      if (!detail) {
        const what = id.imageTag ? `imageTag=${id.imageTag}` : `imageDigest=${id.imageDigest}`
        throw new AwsError(
          'ImageNotFoundException',
          `The image with imageId {${what}} does not exist within the repository with name '${repo.name}' in the registry with id '${accountId}'`
        )
      }
      imageDetails.push(detail)
    }
    return { imageDetails }
  }

  async function removeBackendRepository(name: string): Promise<void> {
    const dir = path.join(
      backend.dataDir,
      'storage',
      'docker',
      'registry',
      'v2',
      'repositories',
      name
    )
    await rm(dir, { recursive: true, force: true })
  }

  function issueToken(): { username: 'AWS'; password: string; expiresAt: Date } {
    const password = `ecr-e2e-${randomBytes(24).toString('base64url')}`
    const expiresAt = new Date(Date.now() + TOKEN_TTL_MS)
    tokens.set(password, expiresAt.getTime())
    return { username: 'AWS', password, expiresAt }
  }

  // ---------------------------------------------------------------- the registry front (gate)
  const pushedDigest = new Map<string, string>() // `${repo}:${tag}` -> digest

  function gateHandler(tls: boolean) {
    return (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const pathOnly = (req.url ?? '/').split('?')[0]
      res.on('finish', () => {
        registryRequests.push({
          method: req.method ?? 'GET',
          path: pathOnly,
          status: res.statusCode,
          tls
        })
      })
      handleGate(req, res, pathOnly).catch((error: unknown) => {
        if (!res.headersSent) {
          fail(res, 500, 'UNKNOWN', `gate error: ${String(error)}`)
        } else {
          res.destroy()
        }
      })
    }
  }

  function checkAuth(req: http.IncomingMessage): { ok: true } | { ok: false; message: string } {
    const header = req.headers.authorization ?? ''
    const m = /^Basic\s+(\S+)$/i.exec(header)
    if (!m) return { ok: false, message: 'Not Authorized' }
    const decoded = Buffer.from(m[1], 'base64').toString('utf8')
    const sep = decoded.indexOf(':')
    const user = sep < 0 ? decoded : decoded.slice(0, sep)
    const pass = sep < 0 ? '' : decoded.slice(sep + 1)
    const expiresAt = tokens.get(pass)
    if (user !== 'AWS' || expiresAt === undefined) return { ok: false, message: 'Not Authorized' }
    if (expiresAt <= Date.now()) {
      return {
        ok: false,
        message: 'Your authorization token has expired. Reauthenticate and try again.'
      }
    }
    return { ok: true }
  }

  async function handleGate(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathOnly: string
  ): Promise<void> {
    const method = req.method ?? 'GET'
    if (pathOnly !== '/v2' && !pathOnly.startsWith('/v2/')) {
      fail(res, 404, 'NOT_FOUND', 'Not Found')
      return
    }
    const auth = checkAuth(req)
    if (!auth.ok) {
      req.resume()
      fail(res, 401, 'DENIED', auth.message, {
        'www-authenticate': `Basic realm="https://${registryHost}/",service="ecr.amazonaws.com"`
      })
      return
    }
    if (pathOnly === '/v2' || pathOnly === '/v2/') {
      req.resume()
      res.writeHead(200, {
        'content-type': 'application/json',
        'docker-distribution-api-version': 'registry/2.0'
      })
      res.end('{}')
      return
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs|tags|referrers)\/(.*)$/.exec(pathOnly)
    if (!m) {
      // _catalog and anything else: let the backend answer.
      forward(req, res)
      return
    }
    const [, repoName, kind, rest] = m
    const repo = repos.get(repoName)
    if (!repo) {
      req.resume()
      fail(
        res,
        404,
        'NAME_UNKNOWN',
        `The repository with name '${repoName}' does not exist in the registry with id '${accountId}'`
      )
      return
    }
    if (
      kind === 'blobs' &&
      rest.startsWith('uploads') &&
      ['POST', 'PATCH', 'PUT'].includes(method) &&
      faultState.blob503 > 0
    ) {
      faultState.blob503--
      req.resume()
      fail(res, 503, 'UNAVAILABLE', 'Service Unavailable (injected fault)')
      return
    }
    if (kind === 'referrers' && referrersApi) {
      req.resume()
      if (method !== 'GET') {
        fail(res, 405, 'UNSUPPORTED', 'The operation is unsupported.')
        return
      }
      const all = referrers.get(`${repo.name}@${decodeURIComponent(rest)}`) ?? []
      const page = referrersPage(new URL(req.url ?? '/', 'http://x'), all)
      send(res, 200, page.headers, page.body)
      return
    }
    if (kind !== 'manifests') {
      forward(req, res)
      return
    }
    const reference = decodeURIComponent(rest)
    const byDigest = reference.startsWith('sha256:')
    if (
      (method === 'GET' || method === 'HEAD') &&
      byDigest &&
      pendingDigest.get(repo.name) === reference &&
      faultState.tagStep > 0
    ) {
      faultState.tagStep--
      req.resume()
      fail(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown')
      return
    }
    if (method !== 'PUT') {
      forward(req, res)
      return
    }
    // PUT manifest: buffer it (manifests are small) to know its digest.
    const body = await readBody(req, 4 * 1024 * 1024)
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`
    const noteSubject = subjectRecorder(repo.name, body, digest, req.headers['content-type'], res)
    if (byDigest) {
      forward(req, res, body, status => {
        noteSubject(status)
        if (status === 201) pendingDigest.set(repo.name, reference)
      })
      return
    }
    if (faultState.tagStep > 0) {
      faultState.tagStep--
      fail(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown')
      return
    }
    if (repo.mutability === 'IMMUTABLE') {
      // ECR decides "tag exists?" and "write tag" atomically: serialise tag PUTs per tag.
      res.once('close', await lockTag(`${repo.name}:${reference}`))
      const existing = await backendFetch('HEAD', `/v2/${repo.name}/manifests/${reference}`, {
        accept: MANIFEST_ACCEPT
      })
      const existingDigest = existing.headers['docker-content-digest']
      if (existing.status === 200 && existingDigest && existingDigest !== digest) {
        fail(
          res,
          400,
          'TAG_INVALID',
          `The image tag '${reference}' already exists in the '${repo.name}' repository and cannot be overwritten because the repository is immutable.`
        )
        return
      }
    }
    forward(req, res, body, status => {
      noteSubject(status)
      if (status !== 201) return
      pendingDigest.delete(repo.name)
      const key = `${repo.name}:${reference}`
      pushedAt.set(key, new Date())
      pushedDigest.set(key, digest)
      if (!repo.imageTags.includes(reference)) repo.imageTags.push(reference)
    })
  }

  /**
   * For a manifest with a subject: once the backend stored it (201), lists it as a referrer of
   * the subject and answers OCI-Subject, as a registry with the referrers API does.
   */
  function subjectRecorder(
    repo: string,
    body: Buffer,
    digest: string,
    contentType: string | undefined,
    res: http.ServerResponse
  ): (status: number) => void {
    const referrer = referrersApi ? asReferrer(body, digest, contentType) : undefined
    if (!referrer) return () => undefined
    return status => {
      if (status !== 201) return
      const key = `${repo}@${referrer.subject}`
      const list = referrers.get(key) ?? []
      if (!list.some(d => d.digest === digest)) list.push(referrer.descriptor)
      referrers.set(key, list)
      res.setHeader('oci-subject', referrer.subject)
    }
  }

  const tagLocks = new Map<string, Promise<void>>()
  /** Waits for earlier holders of `key`; resolves to the release function. */
  async function lockTag(key: string): Promise<() => void> {
    const previous = tagLocks.get(key) ?? Promise.resolve()
    let release!: () => void
    const held = new Promise<void>(resolve => (release = resolve))
    const mine = previous.then(() => held)
    tagLocks.set(key, mine)
    await previous
    return () => {
      release()
      if (tagLocks.get(key) === mine) tagLocks.delete(key)
    }
  }

  function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body?: Buffer,
    onStatus?: (status: number) => void
  ): void {
    forwardTo(backend, req, res, { body, onStatus })
  }

  // One public port, two internal servers: the first byte of each connection decides (0x16 is a
  // TLS handshake record); the connection is then piped to the internal server of that kind.
  // Piping (rather than handing the socket over) keeps Node's http parser fed reliably.
  const plainServer = http.createServer(gateHandler(false))
  const tlsServer = https.createServer({ cert, key }, gateHandler(true))
  tlsServer.on('tlsClientError', (_err, socket) => socket.destroy())
  const sockets = new Set<net.Socket>()
  const track = (s: net.Socket): void => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
    s.on('error', () => s.destroy())
  }
  const gate = net.createServer(socket => {
    if (faultState.down) {
      socket.resetAndDestroy()
      return
    }
    track(socket)
    socket.once('data', (first: Buffer) => {
      const target = first[0] === 0x16 ? tlsServer : plainServer
      const inner = net.connect((target.address() as net.AddressInfo).port, '127.0.0.1')
      track(inner)
      inner.write(first)
      socket.pipe(inner)
      inner.pipe(socket)
      socket.once('close', () => inner.destroy())
      inner.once('close', () => socket.destroy())
    })
  })

  await Promise.all([
    listen(apiServer),
    listen(apiTlsServer),
    listen(gate),
    listen(plainServer),
    listen(tlsServer)
  ])
  const apiPort = (apiServer.address() as net.AddressInfo).port
  const gatePort = (gate.address() as net.AddressInfo).port
  const apiUrl = `http://127.0.0.1:${apiPort}`
  const registryHost = `127.0.0.1:${gatePort}`
  const apiTlsUrl = `https://127.0.0.1:${(apiTlsServer.address() as net.AddressInfo).port}`
  const proxyEndpoint = `https://${opts.registryName ?? registryHost}`

  const faults: EcrFaults = {
    apiThrottle: (n, op) => void faultState.throttle.push({ n, op }),
    api5xx: (n, op) => void faultState.fiveHundred.push({ n, op }),
    accessDenied: (op, n = Number.POSITIVE_INFINITY) => void faultState.denied.push({ n, op }),
    blobUpload503: n => void (faultState.blob503 = n),
    tagStep: n => void (faultState.tagStep = n),
    expiredTokens: n => void (faultState.expiredTokens = n),
    registryDown: () => {
      faultState.down = true
      for (const s of sockets) s.resetAndDestroy()
    },
    registryUp: () => void (faultState.down = false),
    clear: () => {
      faultState.throttle = []
      faultState.fiveHundred = []
      faultState.denied = []
      faultState.blob503 = 0
      faultState.tagStep = 0
      faultState.expiredTokens = 0
      faultState.down = false
    }
  }

  const env: Record<string, string> = {
    AWS_ENDPOINT_URL_ECR: apiUrl,
    AWS_ENDPOINT_URL_ECR_PUBLIC: apiUrl,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(awsDir, 'no-such-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(awsDir, 'no-such-credentials'),
    SSL_CERT_FILE: certs.caFile,
    NODE_EXTRA_CA_CERTS: certs.caFile
  }

  return {
    accountId,
    region,
    apiUrl,
    apiTlsUrl,
    registryHost,
    proxyEndpoint,
    // A copy: the AWS SDK annotates the credentials object it is given.
    get credentials() {
      return { ...TEST_CREDENTIALS }
    },
    env,
    faults,
    expireTokens: () => {
      for (const k of tokens.keys()) tokens.set(k, Date.now() - 1)
    },
    issueToken,
    repositories: () =>
      Object.fromEntries(
        [...repos.values()].map(r => [
          r.name,
          { ...r, tags: [...r.tags], imageTags: [...r.imageTags], encryption: { ...r.encryption } }
        ])
      ),
    publicRepositories: () =>
      Object.fromEntries(
        [...publicRepos.values()].map(r => [
          r.name,
          {
            ...r,
            tags: [...r.tags],
            ...(r.catalogData ? { catalogData: { ...r.catalogData } } : {})
          }
        ])
      ),
    requestsOf: op => apiCalls.filter(c => c.op === op && c.status === 200).map(c => c.input ?? {}),
    apiCalls,
    apiCallCounts: () => {
      const counts: Record<string, number> = {}
      for (const c of apiCalls) counts[c.op] = (counts[c.op] ?? 0) + 1
      return counts
    },
    registryRequests,
    referrers: (repo, digest) => [...(referrers.get(`${repo}@${digest}`) ?? [])],
    reset: async () => {
      for (const name of repos.keys()) await removeBackendRepository(name)
      repos.clear()
      publicRepos.clear()
      tokens.clear()
      pushedAt.clear()
      pushedDigest.clear()
      pendingDigest.clear()
      referrers.clear()
      apiCalls.length = 0
      registryRequests.length = 0
      faults.clear()
    },
    stop: async () => {
      for (const s of sockets) s.destroy()
      await Promise.all([
        closeServer(apiServer),
        closeServer(apiTlsServer),
        closeServer(gate),
        closeServer(plainServer),
        closeServer(tlsServer)
      ])
      await rm(awsDir, { recursive: true, force: true })
    }
  }
}

function listen(server: net.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}
