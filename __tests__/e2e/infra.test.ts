/**
 * Proves the e2e infrastructure itself, without the action: real Helm 3.9.4 / 3.18.0 / 4.1.4,
 * the distribution registry, the ECR emulator (API + registry gate) and the Helm mirror.
 *
 * What Helm printed here (recorded into __tests__/fixtures/helm-output/, port → 5000):
 *
 * Success (`helm push`):
 *   3.9.4  stdout: "Pushed: 127.0.0.1:5000/<ns>/<chart>:<tag>\nDigest: sha256:<hex>\n"
 *   3.18.0 stderr: same two lines   (3.11+ send registry messages to stderr)
 *   4.1.4  stderr: same two lines   (4.2.1+ moved them back to stdout)
 *   "Login Succeeded" goes to the same stream as Pushed/Digest in each version.
 *
 * Repository not created (gate answers 404 NAME_UNKNOWN, as ECR does):
 *   3.9.4  stderr: "Error: unexpected status: 404 Not Found"   (containerd/ORAS v1 drops the body)
 *   3.18.0 stderr: "Error: POST \"https://127.0.0.1:5000/v2/<ns>/<chart>/blobs/uploads/\": response
 *          status code 404: name unknown: The repository with name '<ns>/<chart>' does not exist in
 *          the registry with id '123456789012'"
 *   4.1.4  stderr: "Error: failed to perform \"Push\" on destination: POST ...: response status code
 *          404: name unknown: The repository with name ..."
 *
 * Immutable tag overwritten with another digest (gate answers 400 TAG_INVALID on PUT by tag):
 *   3.9.4  stderr: "Error: failed commit on ref \"manifest-sha256:<hex>\": unexpected status: 400 Bad Request"
 *   3.18.0 stderr: "Error: PUT \"https://127.0.0.1:5000/v2/<ns>/<chart>/manifests/<tag>\": response
 *          status code 400: tag invalid: The image tag '<tag>' already exists in the '<ns>/<chart>'
 *          repository and cannot be overwritten because the repository is immutable."
 *   4.1.4  stderr: "Error: failed to perform \"Tag\" on destination: PUT ...: response status code 400:
 *          tag invalid: The image tag ..."
 *
 * Transport: Helm 3.9.4 logs in over TLS (or falls back to HTTP) but pushes and pulls in plain
 * HTTP to 127.0.0.1 whatever the registry speaks; 3.18.0 and 4.1.4 use HTTPS and trust the CA via
 * SSL_CERT_FILE. The gate serves both on one port.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  GetRepositoryPolicyCommand,
  ListTagsForResourceCommand,
  PutLifecyclePolicyCommand,
  SetRepositoryPolicyCommand,
  TagResourceCommand
} from '@aws-sdk/client-ecr'
import {
  CreateRepositoryCommand as PublicCreateRepositoryCommand,
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as PublicGetAuthorizationTokenCommand,
  PutRepositoryCatalogDataCommand
} from '@aws-sdk/client-ecr-public'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HELM_VERSIONS, helmBinary, helmVersionOf } from '../../testbed/helm-binaries.js'
import { helmCli, type HelmCli, type HelmResult } from '../../testbed/helm-cli.js'
import { E2E_TMP_ENV, makeTempDir, REPO_ROOT } from '../../testbed/paths.js'
import { startRegistry, type Registry } from '../../testbed/registry.js'
import { errorLines, parseFileCommand } from '../../testbed/runner.js'
import { makeChart, startStack, type Stack } from '../../testbed/stack.js'
import { EXPIRE_UNTAGGED_POLICY } from '../../__fixtures__/lifecycle.js'

const FIXTURES = path.join(REPO_ROOT, '__tests__', 'fixtures', 'helm-output')
const UPDATE_FIXTURES = process.env.UPDATE_HELM_FIXTURES === '1'

let stack: Stack
let plain: Registry
let work: string

beforeAll(async () => {
  stack = await startStack()
  plain = await startRegistry()
  work = await makeTempDir('infra')
})

afterAll(async () => {
  await Promise.allSettled([stack?.stop(), plain?.stop()])
  if (work) await rm(work, { recursive: true, force: true })
})

/** Runs `fn` with process.env extended by `env` (the AWS SDK reads it at call time). */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  try {
    return await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

/** An ECR client configured only through the environment, as the action's will be. */
function ecrFromEnv<T>(fn: (client: ECRClient) => Promise<T>, env: Record<string, string> = {}) {
  return withEnv({ ...stack.ecr.env, ...env }, async () => {
    const client = new ECRClient({ maxAttempts: 3 })
    try {
      return await fn(client)
    } finally {
      client.destroy()
    }
  })
}

function ecrPublicFromEnv<T>(fn: (client: ECRPUBLICClient) => Promise<T>) {
  return withEnv({ ...stack.ecr.env, AWS_REGION: 'us-east-1' }, async () => {
    const client = new ECRPUBLICClient({ maxAttempts: 1 })
    try {
      return await fn(client)
    } finally {
      client.destroy()
    }
  })
}

const LIFECYCLE_TEXT = EXPIRE_UNTAGGED_POLICY
const pullPolicyFor = (partition: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Pull',
        Effect: 'Allow',
        Principal: { AWS: [`arn:${partition}:iam::111122223333:root`] },
        Action: ['ecr:BatchGetImage']
      }
    ]
  })

function normalize(text: string, hosts: string[]): string {
  let out = text
  for (const host of hosts) out = out.split(host).join('127.0.0.1:5000')
  return out
    .replace(/\/tmp\/helm-ecr-e2e-[A-Za-z0-9.-]+/g, '/tmp/e2e')
    .replace(/127\.0\.0\.1:\d+->/g, '127.0.0.1:40000->')
}

/** Saves what Helm printed, labelled by stream, for the output parser's unit tests. */
async function recordFixture(version: string, name: string, result: HelmResult, note: string) {
  const file = path.join(FIXTURES, `${version}-${name}.txt`)
  if (existsSync(file) && !UPDATE_FIXTURES) return
  const hosts = [stack.ecr.registryHost, plain.host]
  const args = result.args.map(a => (a.endsWith('.tgz') ? path.basename(a) : a))
  const text = [
    `# Helm v${version}: ${note}`,
    `# command: helm ${normalize(args.join(' '), hosts)}`,
    `# exit code: ${result.exitCode}`,
    '# recorded by __tests__/e2e/infra.test.ts (UPDATE_HELM_FIXTURES=1 to re-record);',
    '# the registry port is replaced by 127.0.0.1:5000, client ports by 40000, temp paths by /tmp/e2e.',
    '--- stdout ---',
    normalize(result.stdout, hosts).replace(/\n?$/, ''),
    '--- stderr ---',
    normalize(result.stderr, hosts).replace(/\n?$/, ''),
    '--- end ---',
    ''
  ].join('\n')
  await mkdir(FIXTURES, { recursive: true })
  await writeFile(file, text)
}

function expectOk(r: HelmResult): void {
  if (r.exitCode !== 0) {
    throw new Error(`helm ${r.args.join(' ')} exited ${r.exitCode}\n${r.stdout}\n${r.stderr}`)
  }
}

describe('Helm binaries', () => {
  it.each(Object.values(HELM_VERSIONS))('Helm %s reports its version', async version => {
    const bin = await helmBinary(version)
    expect(path.isAbsolute(bin)).toBe(true)
    expect(await helmVersionOf(bin)).toBe(`v${version}`)
    // Idempotent: a second call gives the same path.
    expect(await helmBinary(`v${version}`)).toBe(bin)
  })
})

describe('ECR API emulator through the real AWS SDK (AWS_ENDPOINT_URL_ECR)', () => {
  it('issues a 12 h token for the gate', async () => {
    const out = await ecrFromEnv(c => c.send(new GetAuthorizationTokenCommand({})))
    const data = out.authorizationData?.[0]
    expect(data?.proxyEndpoint).toBe(`https://${stack.ecr.registryHost}`)
    const decoded = Buffer.from(data?.authorizationToken ?? '', 'base64').toString('utf8')
    expect(decoded.startsWith('AWS:')).toBe(true)
    const hours = ((data?.expiresAt?.getTime() ?? 0) - Date.now()) / 3_600_000
    expect(hours).toBeGreaterThan(11.9)
    expect(hours).toBeLessThanOrEqual(12)
    expect(stack.ecr.apiCalls.at(-1)).toMatchObject({ op: 'GetAuthorizationToken', status: 200 })
  })

  it('rejects a wrong secret and an unknown access key', async () => {
    await expect(
      ecrFromEnv(c => c.send(new GetAuthorizationTokenCommand({})), {
        AWS_SECRET_ACCESS_KEY: 'not-the-secret'
      })
    ).rejects.toMatchObject({ name: 'InvalidSignatureException' })
    await expect(
      ecrFromEnv(c => c.send(new GetAuthorizationTokenCommand({})), {
        AWS_ACCESS_KEY_ID: 'AKIDUNKNOWN000000000'
      })
    ).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.'
    })
  })

  it('creates and describes repositories and images, with AWS error codes', async () => {
    const created = await ecrFromEnv(c =>
      c.send(
        new CreateRepositoryCommand({
          repositoryName: 'api/demo',
          imageTagMutability: 'IMMUTABLE',
          tags: [{ Key: 'team', Value: 'e2e' }]
        })
      )
    )
    expect(created.repository?.repositoryName).toBe('api/demo')
    expect(created.repository?.imageTagMutability).toBe('IMMUTABLE')
    expect(stack.ecr.repositories()['api/demo']).toMatchObject({
      mutability: 'IMMUTABLE',
      tags: [{ Key: 'team', Value: 'e2e' }]
    })
    await expect(
      ecrFromEnv(c => c.send(new CreateRepositoryCommand({ repositoryName: 'api/demo' })))
    ).rejects.toMatchObject({ name: 'RepositoryAlreadyExistsException' })
    await expect(
      ecrFromEnv(c => c.send(new CreateRepositoryCommand({ repositoryName: 'Bad/Name' })))
    ).rejects.toMatchObject({ name: 'InvalidParameterException' })
    await expect(
      ecrFromEnv(c => c.send(new DescribeRepositoriesCommand({ repositoryNames: ['nope/x'] })))
    ).rejects.toMatchObject({ name: 'RepositoryNotFoundException' })
    await expect(
      ecrFromEnv(c =>
        c.send(
          new DescribeImagesCommand({
            repositoryName: 'api/demo',
            imageIds: [{ imageTag: '1.0.0' }]
          })
        )
      )
    ).rejects.toMatchObject({ name: 'ImageNotFoundException' })
    await expect(
      ecrFromEnv(c =>
        c.send(
          new DescribeImagesCommand({ repositoryName: 'nope/x', imageIds: [{ imageTag: '1' }] })
        )
      )
    ).rejects.toMatchObject({ name: 'RepositoryNotFoundException' })
  })

  it('injects throttling (the SDK retries it) and server errors', async () => {
    stack.ecr.faults.apiThrottle(1, 'DescribeRepositories')
    const before = stack.ecr.apiCalls.length
    const out = await ecrFromEnv(c =>
      c.send(new DescribeRepositoriesCommand({ repositoryNames: ['api/demo'] }))
    )
    expect(out.repositories?.[0]?.repositoryName).toBe('api/demo')
    expect(stack.ecr.apiCalls.slice(before).map(c => c.error ?? c.status)).toEqual([
      'ThrottlingException',
      200
    ])
    stack.ecr.faults.api5xx(5)
    await expect(
      ecrFromEnv(c => c.send(new GetAuthorizationTokenCommand({})))
    ).rejects.toMatchObject({ name: 'ServerException' })
    stack.ecr.faults.clear()
  })
})

describe('ECR emulator: repository settings through the real AWS SDK', () => {
  it('stores CreateRepository scanning, encryption and tags, and answers with them', async () => {
    const kmsKey = 'arn:aws:kms:eu-west-2:123456789012:alias/charts'
    const out = await ecrFromEnv(c =>
      c.send(
        new CreateRepositoryCommand({
          repositoryName: 'settings/a',
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfiguration: { encryptionType: 'KMS', kmsKey },
          tags: [{ Key: 'team', Value: 'e2e' }]
        })
      )
    )
    expect(out.repository).toMatchObject({
      repositoryArn: 'arn:aws:ecr:eu-west-2:123456789012:repository/settings/a',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey }
    })
    expect(stack.ecr.requestsOf('CreateRepository').at(-1)).toMatchObject({
      repositoryName: 'settings/a',
      tags: [{ Key: 'team', Value: 'e2e' }]
    })
    await expect(
      ecrFromEnv(c =>
        c.send(
          new CreateRepositoryCommand({
            repositoryName: 'settings/b',
            encryptionConfiguration: { encryptionType: 'AES256', kmsKey }
          })
        )
      )
    ).rejects.toMatchObject({ name: 'InvalidParameterException' })
    await expect(
      ecrFromEnv(c =>
        c.send(
          new CreateRepositoryCommand({
            repositoryName: 'settings/b',
            tags: [{ Key: 'aws:reserved', Value: 'x' }]
          })
        )
      )
    ).rejects.toMatchObject({ name: 'InvalidTagParameterException' })
    await expect(
      ecrFromEnv(c =>
        c.send(
          new CreateRepositoryCommand({
            repositoryName: 'settings/b',
            tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: '' }))
          })
        )
      )
    ).rejects.toMatchObject({ name: 'TooManyTagsException' })
  })

  it('PutLifecyclePolicy, SetRepositoryPolicy and TagResource, with AWS error codes', async () => {
    await ecrFromEnv(c =>
      c.send(
        new PutLifecyclePolicyCommand({
          repositoryName: 'settings/a',
          lifecyclePolicyText: LIFECYCLE_TEXT
        })
      )
    )
    const lifecycle = await ecrFromEnv(c =>
      c.send(new GetLifecyclePolicyCommand({ repositoryName: 'settings/a' }))
    )
    expect(lifecycle.lifecyclePolicyText).toBe(LIFECYCLE_TEXT)
    await expect(
      ecrFromEnv(c =>
        c.send(
          new PutLifecyclePolicyCommand({ repositoryName: 'settings/a', lifecyclePolicyText: '{}' })
        )
      )
    ).rejects.toMatchObject({ name: 'InvalidParameterException' })
    await expect(
      ecrFromEnv(c =>
        c.send(
          new PutLifecyclePolicyCommand({
            repositoryName: 'nope/x',
            lifecyclePolicyText: LIFECYCLE_TEXT
          })
        )
      )
    ).rejects.toMatchObject({ name: 'RepositoryNotFoundException' })

    await ecrFromEnv(c =>
      c.send(
        new SetRepositoryPolicyCommand({
          repositoryName: 'settings/a',
          policyText: pullPolicyFor('aws')
        })
      )
    )
    const policy = await ecrFromEnv(c =>
      c.send(new GetRepositoryPolicyCommand({ repositoryName: 'settings/a' }))
    )
    expect(policy.policyText).toBe(pullPolicyFor('aws'))
    // A principal of another partition is not a principal here.
    await expect(
      ecrFromEnv(c =>
        c.send(
          new SetRepositoryPolicyCommand({
            repositoryName: 'settings/a',
            policyText: pullPolicyFor('aws-us-gov')
          })
        )
      )
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message:
        "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"
    })

    const resourceArn = 'arn:aws:ecr:eu-west-2:123456789012:repository/settings/a'
    await ecrFromEnv(c =>
      c.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'owner', Value: 'me' }] }))
    )
    const tags = await ecrFromEnv(c => c.send(new ListTagsForResourceCommand({ resourceArn })))
    expect(tags.tags).toEqual([
      { Key: 'team', Value: 'e2e' },
      { Key: 'owner', Value: 'me' }
    ])
  })

  it('signs GovCloud requests into the aws-us-gov partition', async () => {
    const gov = { AWS_REGION: 'us-gov-west-1' }
    const out = await ecrFromEnv(
      c => c.send(new CreateRepositoryCommand({ repositoryName: 'settings/gov' })),
      gov
    )
    expect(out.repository?.repositoryArn).toBe(
      'arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/settings/gov'
    )
    await ecrFromEnv(
      c =>
        c.send(
          new SetRepositoryPolicyCommand({
            repositoryName: 'settings/gov',
            policyText: pullPolicyFor('aws-us-gov')
          })
        ),
      gov
    )
    await expect(
      ecrFromEnv(
        c =>
          c.send(
            new SetRepositoryPolicyCommand({
              repositoryName: 'settings/gov',
              policyText: pullPolicyFor('aws')
            })
          ),
        gov
      )
    ).rejects.toMatchObject({ name: 'InvalidParameterException' })
  })

  it('denies a chosen operation with AccessDeniedException until cleared', async () => {
    stack.ecr.faults.accessDenied('PutLifecyclePolicy')
    const send = () =>
      ecrFromEnv(c =>
        c.send(
          new PutLifecyclePolicyCommand({
            repositoryName: 'settings/a',
            lifecyclePolicyText: LIFECYCLE_TEXT
          })
        )
      )
    await expect(send()).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(
        'is not authorized to perform: ecr:PutLifecyclePolicy on resource: arn:aws:ecr:eu-west-2:123456789012:repository/settings/a'
      )
    })
    await expect(send()).rejects.toMatchObject({ name: 'AccessDeniedException' })
    stack.ecr.faults.clear()
    await send()
  })

  it('ECR Public: token, CreateRepository with tags and catalog data', async () => {
    const token = await ecrPublicFromEnv(c => c.send(new PublicGetAuthorizationTokenCommand({})))
    expect(token.authorizationData?.authorizationToken).toBeTruthy()
    await ecrPublicFromEnv(c =>
      c.send(
        new PublicCreateRepositoryCommand({
          repositoryName: 'pub/a',
          tags: [{ Key: 'team', Value: 'e2e' }]
        })
      )
    )
    await expect(
      ecrPublicFromEnv(c => c.send(new PublicCreateRepositoryCommand({ repositoryName: 'pub/a' })))
    ).rejects.toMatchObject({ name: 'RepositoryAlreadyExistsException' })
    await ecrPublicFromEnv(c =>
      c.send(
        new PutRepositoryCatalogDataCommand({
          repositoryName: 'pub/a',
          catalogData: { description: 'd', aboutText: '# A' }
        })
      )
    )
    expect(stack.ecr.publicRepositories()['pub/a']).toMatchObject({
      tags: [{ Key: 'team', Value: 'e2e' }],
      catalogData: { description: 'd', aboutText: '# A' }
    })
    await expect(
      ecrPublicFromEnv(c =>
        c.send(
          new PutRepositoryCatalogDataCommand({
            repositoryName: 'pub/a',
            catalogData: { description: 'd'.repeat(1025) }
          })
        )
      )
    ).rejects.toMatchObject({ name: 'InvalidParameterException' })
    stack.ecr.faults.accessDenied('ecr-public:PutRepositoryCatalogData', 1)
    await expect(
      ecrPublicFromEnv(c =>
        c.send(
          new PutRepositoryCatalogDataCommand({
            repositoryName: 'pub/a',
            catalogData: { description: 'd' }
          })
        )
      )
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(
        'ecr-public:PutRepositoryCatalogData on resource: arn:aws:ecr-public::123456789012:repository/pub/a'
      )
    })
    expect(stack.ecr.apiCallCounts()['ecr-public:CreateRepository']).toBe(2)
  })
})

async function createRepo(name: string, mutability: 'MUTABLE' | 'IMMUTABLE' = 'MUTABLE') {
  await ecrFromEnv(c =>
    c.send(new CreateRepositoryCommand({ repositoryName: name, imageTagMutability: mutability }))
  )
}

async function ecrPassword(): Promise<string> {
  const out = await ecrFromEnv(c => c.send(new GetAuthorizationTokenCommand({})))
  const decoded = Buffer.from(out.authorizationData?.[0]?.authorizationToken ?? '', 'base64')
  return decoded.toString('utf8').slice('AWS:'.length)
}

function pushedDigest(r: HelmResult): string | undefined {
  return /^Digest: (sha256:[0-9a-f]{64})$/m.exec(r.output)?.[1]
}

describe.each(Object.values(HELM_VERSIONS))('Helm %s against the ECR emulator', version => {
  const ns = `e2e-${version.replace(/\./g, '')}`
  const pushesOnStdout = version === HELM_VERSIONS.v3_9
  let helm: HelmCli
  let chartDir: string

  beforeAll(async () => {
    helm = await helmCli(version, { caFile: stack.certs.caFile })
    chartDir = path.join(work, `chart-${version}`)
    await makeChart(chartDir, { name: 'demo', version: '1.2.3', appVersion: '9.9.9' })
  })
  afterAll(async () => {
    await helm?.cleanup()
  })

  async function packageChart(dest: string): Promise<string> {
    await mkdir(dest, { recursive: true })
    const r = await helm.run(['package', chartDir, '--destination', dest])
    expectOk(r)
    expect(r.stdout).toContain('Successfully packaged chart and saved it to:')
    return path.join(dest, 'demo-1.2.3.tgz')
  }

  it('logs in with the bare host and the password on stdin, pushes and pulls back', async () => {
    await createRepo(`${ns}/demo`)
    const login = await helm.login(stack.ecr.registryHost, 'AWS', await ecrPassword())
    expectOk(login)
    await recordFixture(version, 'login-success', login, 'helm registry login (ECR gate)')
    expect(pushesOnStdout ? login.stdout : login.stderr).toContain('Login Succeeded')
    const registryConfig = JSON.parse(await readFile(helm.env.HELM_REGISTRY_CONFIG, 'utf8')) as {
      auths: Record<string, unknown>
    }
    expect(Object.keys(registryConfig.auths)).toContain(stack.ecr.registryHost)

    const tgz = await packageChart(path.join(work, `pkg-${version}-a`))
    const requestsBefore = stack.ecr.registryRequests.length
    const push = await helm.run(['push', tgz, `oci://${stack.ecr.registryHost}/${ns}`])
    expectOk(push)
    await recordFixture(version, 'push-success', push, 'helm push (ECR gate), success')
    const stream = pushesOnStdout ? push.stdout : push.stderr
    const other = pushesOnStdout ? push.stderr : push.stdout
    expect(stream).toContain(`Pushed: ${stack.ecr.registryHost}/${ns}/demo:1.2.3`)
    expect(stream).toMatch(/^Digest: sha256:[0-9a-f]{64}$/m)
    expect(other).not.toContain('Pushed:')

    // Helm 3.9.4 pushes in plain HTTP to 127.0.0.1; 3.18 / 4.x use TLS.
    const pushRequests = stack.ecr.registryRequests
      .slice(requestsBefore)
      .filter(r => r.path.startsWith(`/v2/${ns}/`))
    expect(pushRequests.length).toBeGreaterThan(0)
    expect(new Set(pushRequests.map(r => r.tls))).toEqual(new Set([!pushesOnStdout]))

    // DescribeImages sees the tag with the digest Helm printed.
    const described = await ecrFromEnv(c =>
      c.send(
        new DescribeImagesCommand({
          repositoryName: `${ns}/demo`,
          imageIds: [{ imageTag: '1.2.3' }]
        })
      )
    )
    const detail = described.imageDetails?.[0]
    expect(detail?.imageDigest).toBe(pushedDigest(push))
    expect(detail?.imageTags).toEqual(['1.2.3'])
    expect(detail?.artifactMediaType).toBe('application/vnd.cncf.helm.config.v1+json')
    expect(detail?.imageManifestMediaType).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(stack.ecr.repositories()[`${ns}/demo`].imageTags).toEqual(['1.2.3'])

    const pullDir = path.join(work, `pull-${version}`)
    await mkdir(pullDir, { recursive: true })
    const pull = await helm.run([
      'pull',
      `oci://${stack.ecr.registryHost}/${ns}/demo`,
      '--version',
      '1.2.3',
      '--destination',
      pullDir
    ])
    expectOk(pull)
    expect(await readdir(pullDir)).toEqual(['demo-1.2.3.tgz'])
  })

  it('reports NAME_UNKNOWN for a repository that was not created', async () => {
    const tgz = await packageChart(path.join(work, `pkg-${version}-b`))
    const push = await helm.run(['push', tgz, `oci://${stack.ecr.registryHost}/missing-${ns}`])
    await recordFixture(
      version,
      'push-name-unknown',
      push,
      'helm push to a repository never created'
    )
    expect(push.exitCode).toBe(1)
    const last = stack.ecr.registryRequests.at(-1)
    expect(last?.status).toBe(404)
    if (version === HELM_VERSIONS.v3_9) {
      // containerd's pusher does not read the error body.
      expect(push.stderr).toContain('Error: unexpected status: 404 Not Found')
    } else {
      expect(push.stderr).toContain(
        `name unknown: The repository with name 'missing-${ns}/demo' does not exist in the registry with id '123456789012'`
      )
    }
  })

  it('refuses to overwrite a tag in an IMMUTABLE repository (same digest is fine)', async () => {
    const nsImm = `${ns}-immutable`
    await createRepo(`${nsImm}/demo`, 'IMMUTABLE')
    const first = await packageChart(path.join(work, `pkg-${version}-c`))
    expectOk(await helm.run(['push', first, `oci://${stack.ecr.registryHost}/${nsImm}`]))
    // The very same package again: allowed.
    expectOk(await helm.run(['push', first, `oci://${stack.ecr.registryHost}/${nsImm}`]))
    // Different content, same version: refused.
    await writeFile(path.join(chartDir, 'values.yaml'), `greeting: changed for ${version}\n`)
    const second = await packageChart(path.join(work, `pkg-${version}-d`))
    const push = await helm.run(['push', second, `oci://${stack.ecr.registryHost}/${nsImm}`])
    await recordFixture(
      version,
      'push-tag-immutable',
      push,
      'helm push of another digest to an existing tag of an IMMUTABLE repository'
    )
    expect(push.exitCode).toBe(1)
    expect(stack.ecr.registryRequests.at(-1)).toMatchObject({
      method: 'PUT',
      path: `/v2/${nsImm}/demo/manifests/1.2.3`,
      status: 400
    })
    if (version === HELM_VERSIONS.v3_9) {
      expect(push.stderr).toMatch(
        /failed commit on ref "manifest-sha256:[0-9a-f]{64}": unexpected status: 400 Bad Request/
      )
    } else {
      expect(push.stderr).toContain(
        `tag invalid: The image tag '1.2.3' already exists in the '${nsImm}/demo' repository and cannot be overwritten because the repository is immutable.`
      )
    }
  })

  it('fails the Tag step once when asked, and a retried push succeeds', async () => {
    const nsTag = `${ns}-tagstep`
    await createRepo(`${nsTag}/demo`)
    const tgz = await packageChart(path.join(work, `pkg-${version}-e`))
    stack.ecr.faults.tagStep(1)
    const failed = await helm.run(['push', tgz, `oci://${stack.ecr.registryHost}/${nsTag}`])
    await recordFixture(
      version,
      'push-tag-step-not-found',
      failed,
      'helm push while the registry 404s the Tag step (read-after-write lag)'
    )
    expect(failed.exitCode).toBe(1)
    if (version === HELM_VERSIONS.v3_9)
      expect(failed.stderr).toContain('unexpected status: 404 Not Found')
    else expect(failed.stderr).toMatch(/sha256:[0-9a-f]{64}: not found/)
    expectOk(await helm.run(['push', tgz, `oci://${stack.ecr.registryHost}/${nsTag}`]))
  })

  it('answers 401 with an expired token', async () => {
    const nsExp = `${ns}-expired`
    await createRepo(`${nsExp}/demo`)
    const h = await helmCli(version, { caFile: stack.certs.caFile })
    try {
      expectOk(await h.login(stack.ecr.registryHost, 'AWS', await ecrPassword()))
      stack.ecr.expireTokens()
      const tgz = await packageChart(path.join(work, `pkg-${version}-f`))
      const push = await h.run(['push', tgz, `oci://${stack.ecr.registryHost}/${nsExp}`])
      await recordFixture(
        version,
        'push-token-expired',
        push,
        'helm push after the ECR token expired'
      )
      expect(push.exitCode).toBe(1)
      expect(push.stderr).toMatch(/401/)
      const bad = await h.login(stack.ecr.registryHost, 'AWS', 'not-a-token')
      await recordFixture(
        version,
        'login-unauthorized',
        bad,
        'helm registry login with a wrong password'
      )
      expect(bad.exitCode).toBe(1)
    } finally {
      await h.cleanup()
      // expireTokens() expired the shared client's token too: log it in again.
      expectOk(await helm.login(stack.ecr.registryHost, 'AWS', await ecrPassword()))
    }
  })

  it('pushes a version with build metadata (+ becomes _ in the tag), except Helm 3.18.0', async () => {
    const nsPlus = `${ns}-plus`
    await createRepo(`${nsPlus}/plus`)
    const dir = path.join(work, `plus-${version}`)
    await makeChart(path.join(dir, 'plus'), { name: 'plus', version: '1.0.0+build.5' })
    expectOk(await helm.run(['package', path.join(dir, 'plus'), '--destination', dir]))
    const push = await helm.run([
      'push',
      path.join(dir, 'plus-1.0.0+build.5.tgz'),
      `oci://${stack.ecr.registryHost}/${nsPlus}`
    ])
    await recordFixture(
      version,
      'push-plus-version',
      push,
      'helm push of chart version 1.0.0+build.5'
    )
    if (version === HELM_VERSIONS.v3_18) {
      // Helm 3.18.0 regression (helm/helm#30881): fails before sending any request.
      expect(push.exitCode).toBe(1)
      expect(push.stderr.trim()).toBe('Error: not found')
      return
    }
    expectOk(push)
    expect(push.output).toContain(`Pushed: ${stack.ecr.registryHost}/${nsPlus}/plus:1.0.0_build.5`)
    expect(push.output).toContain(
      `${stack.ecr.registryHost}/${nsPlus}/plus:1.0.0_build.5 contains an underscore.`
    )
    expect(stack.ecr.repositories()[`${nsPlus}/plus`].imageTags).toEqual(['1.0.0_build.5'])
  })

  it('fails on blob upload 503s (ORAS v2 retries each request 5 times) and a dead registry', async () => {
    const nsFault = `${ns}-faults`
    await createRepo(`${nsFault}/demo`)
    const tgz = await packageChart(path.join(work, `pkg-${version}-h`))
    // Helm 3.9.4 gives up on the first 503; 3.18 / 4.x absorb up to ~6 (2 uploads in parallel).
    stack.ecr.faults.blobUpload503(version === HELM_VERSIONS.v3_9 ? 1 : 100)
    try {
      const push = await helm.run(['push', tgz, `oci://${stack.ecr.registryHost}/${nsFault}`])
      await recordFixture(
        version,
        'push-blob-upload-503',
        push,
        'helm push while blob uploads answer 503'
      )
      expect(push.exitCode).toBe(1)
      expect(push.stderr).toMatch(/503/)
    } finally {
      stack.ecr.faults.clear()
    }
    stack.ecr.faults.registryDown()
    try {
      const push = await helm.run(['push', tgz, `oci://${stack.ecr.registryHost}/${nsFault}`])
      await recordFixture(
        version,
        'push-connection-reset',
        push,
        'helm push while the registry resets connections'
      )
      expect(push.exitCode).toBe(1)
      expect(push.stderr).toMatch(/connection reset by peer|EOF/)
    } finally {
      stack.ecr.faults.registryUp()
    }
    expectOk(await helm.run(['push', tgz, `oci://${stack.ecr.registryHost}/${nsFault}`]))
  })

  it('logs in and pushes to the plain-HTTP registry with htpasswd credentials', async () => {
    const h = await helmCli(version)
    try {
      // Helm 4 needs --plain-http on login and push; 3.18 falls back to HTTP on login by itself
      // but needs --plain-http on push; 3.9.4 has no such flag and uses HTTP for 127.0.0.1.
      const loginFlags = version === HELM_VERSIONS.v4 ? ['--plain-http'] : []
      const pushFlags = version === HELM_VERSIONS.v3_9 ? [] : ['--plain-http']
      const login = await h.login(plain.host, plain.username, plain.password, loginFlags)
      expectOk(login)
      expect(login.output).toContain('Login Succeeded')
      const tgz = await packageChart(path.join(work, `pkg-${version}-g`))
      const push = await h.run(['push', tgz, `oci://${plain.host}/${ns}`, ...pushFlags])
      expectOk(push)
      await recordFixture(
        version,
        'push-success-plain-http',
        push,
        'helm push to a plain-HTTP distribution registry'
      )
      expect(push.output).toContain(`Pushed: ${plain.host}/${ns}/demo:1.2.3`)
      expect(push.output).not.toContain(plain.password)
      expect(login.output).not.toContain(plain.password)
    } finally {
      await h.cleanup()
    }
  })
})

describe('Helm download mirror', () => {
  it('serves archives whose sha256 matches the .sha256sum file', async () => {
    const name = `helm-v${HELM_VERSIONS.v3_18}-linux-amd64.tar.gz`
    const archive = Buffer.from(
      await (await fetch(`${stack.mirror.httpUrl}/${name}?ts=1`)).arrayBuffer()
    )
    const sumLine = await (await fetch(`${stack.mirror.httpUrl}/${name}.sha256sum`)).text()
    const hex = await (await fetch(`${stack.mirror.httpUrl}/${name}.sha256`)).text()
    const actual = createHash('sha256').update(archive).digest('hex')
    expect(sumLine).toBe(`${actual}  ${name}\n`)
    expect(hex.trim()).toBe(actual)
    expect(await (await fetch(`${stack.mirror.httpUrl}/helm-latest-version`)).text()).toBe(
      'v4.1.4\n'
    )
    expect(await (await fetch(`${stack.mirror.httpUrl}/helm3-latest-version?ts=2`)).text()).toBe(
      'v3.18.0\n'
    )
    expect((await fetch(`${stack.mirror.httpUrl}/helm-v9.9.9-linux-amd64.tar.gz`)).status).toBe(404)
    expect(stack.mirror.downloads()[`/${name}`]).toBeGreaterThanOrEqual(1)

    stack.mirror.faults.tamper(HELM_VERSIONS.v3_18)
    const tampered = Buffer.from(
      await (await fetch(`${stack.mirror.httpUrl}/${name}`)).arrayBuffer()
    )
    expect(createHash('sha256').update(tampered).digest('hex')).not.toBe(actual)
    stack.mirror.faults.clear()

    stack.mirror.faults.truncateOnce(HELM_VERSIONS.v3_18)
    await expect(
      fetch(`${stack.mirror.httpUrl}/${name}`).then(r => r.arrayBuffer())
    ).rejects.toThrow()
    stack.mirror.faults.error500Once('/helm-latest-version')
    expect((await fetch(`${stack.mirror.httpUrl}/helm-latest-version`)).status).toBe(500)
    expect((await fetch(`${stack.mirror.httpUrl}/helm-latest-version`)).status).toBe(200)
  })
})

describe('temp dirs', () => {
  it('live under the per-run root that the global setup removes', () => {
    const root = process.env[E2E_TMP_ENV]
    expect(root).toBeTruthy()
    expect(work.startsWith(`${root}${path.sep}`)).toBe(true)
    expect(stack.registry.dataDir.startsWith(`${root}${path.sep}`)).toBe(true)
  })
})

describe('runner helpers', () => {
  it('parse file commands and error annotations', () => {
    expect(
      parseFileCommand('a=1\nref<<ghadelimiter_x\noci://h/c:1\nline 2\nghadelimiter_x\nb=x=y\n')
    ).toEqual({ a: '1', ref: 'oci://h/c:1\nline 2', b: 'x=y' })
    expect(errorLines('::debug::x\n::error::boom%0Anext\n::error title=T::two\n')).toEqual([
      'boom\nnext',
      'two'
    ])
  })
})
