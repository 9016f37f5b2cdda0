import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, test, vi } from 'vitest'

import { REPO_ROOT } from '../../testbed/paths.js'
import { actionInputDefaults } from '../../testbed/runner.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { readConfig } = await import('../../src/config/config.js')
const { registryKind } = await import('../../src/registry/factory.js')
const { MissingCredentialsError, UserError } = await import('../../src/errors.js')

/** Every input with its action.yml default, as the runner passes them. */
const DEFAULTS = actionInputDefaults()
const ECR = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'

/** The kind the action would pick for these inputs (over action.yml's defaults). */
function kindFor(values: Record<string, string>) {
  const all: Record<string, string> = { ...DEFAULTS, ...values }
  return registryKind(readConfig(name => all[name], undefined, process.env).registry)
}

const savedRegion = [process.env.AWS_REGION, process.env.AWS_DEFAULT_REGION]
beforeEach(() => {
  delete process.env.AWS_REGION
  delete process.env.AWS_DEFAULT_REGION
})
afterEach(() => {
  for (const [name, value] of [
    ['AWS_REGION', savedRegion[0]],
    ['AWS_DEFAULT_REGION', savedRegion[1]]
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

describe('registryKind picks one kind from the inputs', () => {
  test.each<[string, Record<string, string>, string]>([
    ['an ECR host', { registry: ECR }, 'ecr'],
    ['no registry (the default ECR registry)', { region: 'eu-west-2' }, 'ecr'],
    ['ECR Public', { registry: 'public.ecr.aws', namespace: 'alias' }, 'ecr-public'],
    [
      'another registry with credentials',
      { registry: 'ghcr.io', username: 'me', password: 'pw' },
      'oci'
    ],
    [
      'an ECR host with username and password',
      { registry: ECR, username: 'AWS', password: 'pw' },
      'oci'
    ]
  ])('%s -> %s', (_, values, name) => {
    expect(kindFor(values).name).toBe(name)
  })

  it('takes the region for the default registry from AWS_REGION', () => {
    process.env.AWS_REGION = 'us-gov-west-1'
    expect(kindFor({}).missingRepositoryFix('charts/app')).toBe(
      'set "create-repository: true", or create it with "aws ecr create-repository --repository-name charts/app --region us-gov-west-1".'
    )
  })
})

describe('the configuration refuses what the kind cannot honour, before any network call', () => {
  test.each<[string, Record<string, string>, string]>([
    [
      'no region anywhere for the default registry',
      {},
      'Input "region" is empty and neither AWS_REGION nor AWS_DEFAULT_REGION is set: set "region", set "registry" to an ECR host, or give aws-actions/configure-aws-credentials an aws-region.'
    ],
    [
      'region contradicting the registry',
      { registry: ECR, region: 'us-east-1' },
      'Input "region" (us-east-1) contradicts the region in "registry" (eu-west-2): remove "region" or make them match.'
    ],
    [
      'ECR Public without namespace',
      { registry: 'public.ecr.aws' },
      'Input "namespace" is required for public.ecr.aws: set it to your registry alias, e.g. "namespace: my-alias".'
    ],
    [
      'ECR Public with a tag mutability',
      { registry: 'public.ecr.aws', namespace: 'alias', 'image-tag-mutability': 'IMMUTABLE' },
      'Input "image-tag-mutability" does not apply to public.ecr.aws: ECR Public repositories have no tag mutability setting, so remove the input.'
    ],
    [
      'another registry without credentials',
      { registry: 'ghcr.io' },
      'Input "registry" (ghcr.io) is not an Amazon ECR host: set "username" and "password" for other OCI registries, or use ACCOUNT.dkr.ecr.REGION.amazonaws.com.'
    ],
    [
      'create-repository with static credentials',
      { registry: 'ghcr.io', username: 'me', password: 'pw', 'create-repository': 'true' },
      'Input "create-repository" needs AWS credentials, not "username"/"password": remove one of them.'
    ],
    [
      'a tag mutability with static credentials',
      { registry: 'ghcr.io', username: 'me', password: 'pw', 'image-tag-mutability': 'MUTABLE' },
      'Input "image-tag-mutability" applies only to ECR repositories that "create-repository" makes: remove it when using "username"/"password".'
    ]
  ])('%s', (_, values, message) => {
    expect(() => kindFor(values)).toThrow(new UserError(message))
  })

  test.each(
    (
      [
        [
          'the default registry',
          { region: 'eu-west-2' },
          'Amazon ECR (the default registry of the AWS credentials)'
        ],
        ['private ECR', { registry: ECR }, `Amazon ECR (${ECR})`],
        [
          'ECR Public',
          { registry: 'public.ecr.aws', namespace: 'alias' },
          'Amazon ECR Public (public.ecr.aws)'
        ],
        [
          'an ECR host with static credentials',
          { registry: ECR, username: 'AWS', password: 'token' },
          `Amazon ECR (${ECR})`
        ],
        [
          'ECR Public with static credentials',
          { registry: 'public.ecr.aws', namespace: 'alias', username: 'AWS', password: 'token' },
          'Amazon ECR Public (public.ecr.aws)'
        ]
      ] as const
    ).flatMap(([kind, values, named]) => [
      [
        `plain-http for ${kind}`,
        { ...values, 'plain-http': 'true' },
        `Input "plain-http" is refused for ${named}: ECR speaks HTTPS only, and plain HTTP would expose its 12-hour registry token; remove "plain-http".`
      ],
      [
        `insecure-skip-tls-verify for ${kind}`,
        { ...values, 'insecure-skip-tls-verify': 'true' },
        `Input "insecure-skip-tls-verify" is refused for ${named}: an unverified connection would expose its 12-hour registry token; remove it, and behind a TLS-inspecting proxy give Helm the proxy's CA with "ca-file" (or SSL_CERT_FILE).`
      ]
    ])
  )('%s', (_, values, message) => {
    expect(() => kindFor(values)).toThrow(new UserError(message))
  })

  it('keeps plain-http and insecure-skip-tls-verify for other registries, and ca-file for ECR', () => {
    expect(
      kindFor({
        registry: 'registry.internal:5000',
        username: 'u',
        password: 'p',
        'plain-http': 'true',
        'insecure-skip-tls-verify': 'true'
      }).name
    ).toBe('oci')
    expect(kindFor({ registry: ECR, 'ca-file': path.join(REPO_ROOT, 'package.json') }).name).toBe(
      'ecr'
    )
  })
})

describe('where each kind puts charts', () => {
  it('private ECR: the whole namespace is part of the repository name', () => {
    expect(kindFor({ registry: ECR, namespace: 'team/charts' }).target(ECR)).toEqual({
      host: ECR,
      namespace: 'team/charts',
      repositoryPrefix: 'team/charts'
    })
  })

  it('ECR Public: the first namespace segment is the alias, not part of the repository', () => {
    const kind = kindFor({ registry: 'public.ecr.aws', namespace: 'alias/charts' })
    expect(kind.target('public.ecr.aws')).toEqual({
      host: 'public.ecr.aws',
      namespace: 'alias/charts',
      repositoryPrefix: 'charts'
    })
  })

  it('another registry: as given', () => {
    const kind = kindFor({ registry: 'ghcr.io', namespace: 'org', username: 'u', password: 'p' })
    expect(kind.target('ghcr.io')).toEqual({
      host: 'ghcr.io',
      namespace: 'org',
      repositoryPrefix: 'org'
    })
  })
})

describe('each kind words its own fixes', () => {
  it('names IAM actions for ECR, ecr-public actions for ECR Public, the username otherwise', () => {
    expect(kindFor({ registry: ECR }).pushPermissionFix).toContain('ecr:PutImage')
    expect(kindFor({ registry: 'public.ecr.aws', namespace: 'a' }).pushPermissionFix).toContain(
      'ecr-public:PutImage'
    )
    expect(kindFor({ registry: 'ghcr.io', username: 'u', password: 'p' }).pushPermissionFix).toBe(
      'check that "username" may push to this repository.'
    )
    expect(
      kindFor({ registry: 'public.ecr.aws', namespace: 'a' }).missingRepositoryFix('charts/x')
    ).toBe(
      'set "create-repository: true", or create it with "aws ecr-public create-repository --repository-name charts/x --region us-east-1".'
    )
    expect(
      kindFor({
        registry: 'ghcr.io',
        namespace: 'org',
        username: 'u',
        password: 'p'
      }).missingRepositoryFix('org/x')
    ).toBe('create it in the registry first, or check "namespace" (now "org").')
  })

  it('the OCI kind logs in with the inputs and makes no AWS call', async () => {
    const kind = kindFor({ registry: 'ghcr.io', username: 'u', password: 'p' })
    await expect(kind.authenticate()).resolves.toEqual({
      host: 'ghcr.io',
      username: 'u',
      password: 'p'
    })
  })
})

describe('a dry run without secrets (pull requests from forks)', () => {
  it('an OCI host without username/password is still an OCI kind; authenticate says none exist', async () => {
    expect(() => kindFor({ registry: 'ghcr.io' })).toThrow(UserError)
    const kind = kindFor({ registry: 'ghcr.io', 'dry-run': 'true', username: 'me' })
    expect(kind.name).toBe('oci')
    await expect(kind.authenticate()).rejects.toBeInstanceOf(MissingCredentialsError)
    expect(kind.target('ghcr.io').host).toBe('ghcr.io')
  })
  it('with secrets the dry run logs in as usual', async () => {
    const kind = kindFor({ registry: 'ghcr.io', 'dry-run': 'true', username: 'me', password: 'pw' })
    expect(await kind.authenticate()).toEqual({ host: 'ghcr.io', username: 'me', password: 'pw' })
  })
})

describe('a dry run with no registry and no region (a fork)', () => {
  it('is the unchecked kind: no login, charts under the placeholder host', async () => {
    const kind = kindFor({ 'dry-run': 'true', namespace: 'charts' })
    expect(kind.name).toBe('unchecked')
    await expect(kind.authenticate()).rejects.toBeInstanceOf(MissingCredentialsError)
    expect(kind.target('registry-not-checked')).toEqual({
      host: 'registry-not-checked',
      namespace: 'charts',
      repositoryPrefix: 'charts'
    })
  })
})
