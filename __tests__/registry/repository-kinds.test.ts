/**
 * Issue 13 through the registry kinds: which kind takes which repository settings, and what
 * ensureRepository sends (AWS SDK mocked with aws-sdk-client-mock).
 */
import {
  CreateRepositoryCommand,
  ECRClient,
  PutLifecyclePolicyCommand,
  RepositoryAlreadyExistsException,
  SetRepositoryPolicyCommand
} from '@aws-sdk/client-ecr'
import {
  CreateRepositoryCommand as PublicCreateRepositoryCommand,
  ECRPUBLICClient,
  PutRepositoryCatalogDataCommand
} from '@aws-sdk/client-ecr-public'
import { mockClient } from 'aws-sdk-client-mock'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeEach, describe, expect, it, test, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'
import { actionInputDefaults } from '../../testbed/runner.js'
import { EXPIRE_UNTAGGED_POLICY } from '../../__fixtures__/lifecycle.js'
import type { ChartJob } from '../../src/model.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { readConfig } = await import('../../src/config/config.js')
const { registryKind } = await import('../../src/registry/factory.js')
const { UserError } = await import('../../src/errors.js')

/** Every input with its action.yml default, as the runner passes them. */
const DEFAULTS = actionInputDefaults()
const ECR = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const GOV = '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com'
const LIFECYCLE = EXPIRE_UNTAGGED_POLICY

const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'repository-kinds-'))
fs.writeFileSync(path.join(workspace, 'lifecycle.json'), LIFECYCLE)
const chartDir = path.join(workspace, 'charts', 'app')
fs.mkdirSync(chartDir, { recursive: true })
fs.writeFileSync(path.join(chartDir, 'README.md'), '# app\n\nInstall it.\n')
afterAll(() => fs.rmSync(workspace, { recursive: true, force: true }))

function kindFor(values: Record<string, string>) {
  const all: Record<string, string> = { ...DEFAULTS, ...values }
  return registryKind(readConfig(name => all[name], workspace, process.env).registry)
}

function job(repositoryName: string, description?: string): ChartJob {
  return {
    source: { kind: 'dir', path: chartDir, display: 'charts/app' },
    meta: { name: 'app', version: '1.0.0', description, dependencies: [] },
    version: '1.0.0',
    tag: '1.0.0',
    repositoryName,
    dependsOn: []
  }
}

const savedRegion = process.env.AWS_REGION
afterAll(() => {
  if (savedRegion === undefined) delete process.env.AWS_REGION
  else process.env.AWS_REGION = savedRegion
})

const ecr = mockClient(ECRClient)
const ecrPublic = mockClient(ECRPUBLICClient)
beforeEach(() => {
  ecr.reset()
  ecrPublic.reset()
  core.resetCore()
  process.env.AWS_REGION = 'eu-west-2'
})

const ALL = {
  'create-repository': 'true',
  'repository-tags': 'team=platform',
  'scan-on-push': 'true',
  'kms-key': 'alias/charts',
  'lifecycle-policy': 'lifecycle.json',
  'pull-accounts': '111122223333, o-a1b2c3d4e5'
}

describe('which kind takes which settings', () => {
  test.each<[string, Record<string, string>, string]>([
    [
      'ECR Public: everything but tags',
      { ...ALL, registry: 'public.ecr.aws', namespace: 'alias' },
      'Inputs "scan-on-push", "kms-key", "lifecycle-policy", "pull-accounts" cannot apply to Amazon ECR Public, which has no KMS keys, scanning, lifecycle policies or pull policies (its repositories are public): remove them; "repository-tags" works there.'
    ],
    [
      'ECR Public: one setting',
      { registry: 'public.ecr.aws', namespace: 'alias', 'scan-on-push': 'true' },
      'Input "scan-on-push" cannot apply to Amazon ECR Public, which has no KMS keys, scanning, lifecycle policies or pull policies (its repositories are public): remove it; "repository-tags" works there.'
    ],
    [
      'OCI: tags',
      { registry: 'ghcr.io', username: 'u', password: 'p', 'repository-tags': 'a=b' },
      'Input "repository-tags" sets up Amazon ECR repositories and cannot apply to an OCI registry with "username"/"password": remove it.'
    ],
    [
      'OCI: several',
      {
        registry: 'ghcr.io',
        username: 'u',
        password: 'p',
        'scan-on-push': 'true',
        'pull-accounts': '111122223333'
      },
      'Inputs "scan-on-push", "pull-accounts" set up Amazon ECR repositories and cannot apply to an OCI registry with "username"/"password": remove them.'
    ],
    [
      'private ECR: kms-key without create-repository (encryption is fixed at creation)',
      { registry: ECR, 'kms-key': 'alias/ecr-charts' },
      'Input "kms-key" needs "create-repository: true": encryption is fixed when a repository is created, so set create-repository, or remove kms-key and create the repository with the key yourself.'
    ],
    [
      'ECR Public: kms-key without create-repository names ECR Public, not create-repository',
      { registry: 'public.ecr.aws', namespace: 'alias', 'kms-key': 'alias/ecr-charts' },
      'Input "kms-key" cannot apply to Amazon ECR Public, which has no KMS keys, scanning, lifecycle policies or pull policies (its repositories are public): remove it; "repository-tags" works there.'
    ],
    [
      'private ECR: a key ARN of another region',
      { ...ALL, registry: ECR, 'kms-key': 'arn:aws:kms:eu-west-1:123456789012:alias/charts' },
      'Input "kms-key" is a key in aws/eu-west-1, but the registry is in aws/eu-west-2: ECR needs a key in the repository\'s own partition and region.'
    ],
    [
      'private ECR: a commercial key ARN for a GovCloud registry',
      { ...ALL, registry: GOV, 'kms-key': 'arn:aws:kms:us-gov-west-1:123456789012:alias/charts' },
      'Input "kms-key" is a key in aws/us-gov-west-1, but the registry is in aws-us-gov/us-gov-west-1: ECR needs a key in the repository\'s own partition and region.'
    ]
  ])('%s', (_, values, message) => {
    expect(() => kindFor(values)).toThrow(new UserError(message))
  })

  it('private ECR takes every setting; ECR Public takes tags', () => {
    expect(kindFor({ ...ALL, registry: ECR }).name).toBe('ecr')
    expect(
      kindFor({
        registry: 'public.ecr.aws',
        namespace: 'alias',
        'create-repository': 'true',
        'repository-tags': 'team=platform'
      }).name
    ).toBe('ecr-public')
    expect(core.warning).not.toHaveBeenCalled()
  })

  it('warns once when settings are set without create-repository', () => {
    const values: Record<string, string> = { ...ALL, 'create-repository': 'false' }
    delete values['kms-key']
    kindFor(values)
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(core.warning).toHaveBeenCalledWith(
      'Inputs "repository-tags", "scan-on-push", "lifecycle-policy", "pull-accounts" only apply to repositories this step creates, and "create-repository" is false: they are ignored (see the README on changing existing repositories).'
    )
  })
})

describe('private ECR ensureRepository', () => {
  it('creates with tags, scanning and KMS, then sets the lifecycle and pull policies', async () => {
    ecr.on(CreateRepositoryCommand).resolves({})
    ecr.on(PutLifecyclePolicyCommand).resolves({})
    ecr.on(SetRepositoryPolicyCommand).resolves({})
    const kind = kindFor({ ...ALL, registry: GOV, 'image-tag-mutability': 'IMMUTABLE' })
    await kind.ensureRepository(job('charts/app'))
    // once per repository
    await kind.ensureRepository(job('charts/app'))
    expect(ecr.commandCalls(CreateRepositoryCommand).map(c => c.args[0].input)).toEqual([
      {
        repositoryName: 'charts/app',
        registryId: '123456789012',
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/charts' },
        tags: [{ Key: 'team', Value: 'platform' }]
      }
    ])
    expect(ecr.commandCalls(PutLifecyclePolicyCommand)[0].args[0].input).toEqual({
      repositoryName: 'charts/app',
      registryId: '123456789012',
      lifecyclePolicyText: LIFECYCLE
    })
    const policy = JSON.parse(
      ecr.commandCalls(SetRepositoryPolicyCommand)[0].args[0].input.policyText ?? ''
    ) as { Statement: { Principal: unknown }[] }
    expect(policy.Statement[0].Principal).toEqual({
      AWS: ['arn:aws-us-gov:iam::111122223333:root']
    })
    expect(core.info).toHaveBeenCalledWith(
      'Created repository charts/app (IMMUTABLE, repository-tags, scan-on-push, kms-key, lifecycle-policy, pull-accounts)'
    )
  })

  it('leaves an existing repository alone and says so', async () => {
    ecr
      .on(CreateRepositoryCommand)
      .rejects(new RepositoryAlreadyExistsException({ message: 'exists', $metadata: {} }))
    await kindFor({ ...ALL, registry: ECR }).ensureRepository(job('charts/app'))
    expect(ecr.commandCalls(PutLifecyclePolicyCommand)).toHaveLength(0)
    expect(ecr.commandCalls(SetRepositoryPolicyCommand)).toHaveLength(0)
    expect(core.info).toHaveBeenCalledWith(
      'Repository charts/app exists; left as it is (repository-tags, scan-on-push, kms-key, lifecycle-policy, pull-accounts apply only to repositories this step creates)'
    )
  })

  it('a denied follow-up is one line naming the action and the way out', async () => {
    ecr.on(CreateRepositoryCommand).resolves({})
    ecr.on(PutLifecyclePolicyCommand).rejects(
      Object.assign(new Error('not authorized to perform: ecr:PutLifecyclePolicy'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 }
      })
    )
    ecr.on(SetRepositoryPolicyCommand).resolves({})
    const error = await kindFor({ ...ALL, registry: ECR })
      .ensureRepository(job('charts/app'))
      .catch((e: unknown) => e as Error)
    expect(error).toBeInstanceOf(UserError)
    expect(error?.message).toBe(
      `Repository charts/app was created, but AWS denied ecr:PutLifecyclePolicy (AccessDeniedException: not authorized to perform: ecr:PutLifecyclePolicy), so it has no lifecycle policy: grant ecr:PutLifecyclePolicy to the job's role and run "aws ecr put-lifecycle-policy --repository-name charts/app --registry-id 123456789012 --lifecycle-policy-text file://lifecycle.json --region eu-west-2"; or delete the repository and re-run (a re-run leaves an existing repository as it is).`
    )
  })
})

describe('ECR Public ensureRepository', () => {
  it('creates with tags and puts catalog data from Chart.yaml and README.md', async () => {
    ecrPublic.on(PublicCreateRepositoryCommand).resolves({})
    ecrPublic.on(PutRepositoryCatalogDataCommand).resolves({})
    const kind = kindFor({
      registry: 'public.ecr.aws',
      namespace: 'alias/charts',
      'create-repository': 'true',
      'repository-tags': 'team=platform'
    })
    await kind.ensureRepository(job('charts/app', 'An app'))
    expect(ecrPublic.commandCalls(PublicCreateRepositoryCommand)[0].args[0].input).toEqual({
      repositoryName: 'charts/app',
      tags: [{ Key: 'team', Value: 'platform' }]
    })
    expect(ecrPublic.commandCalls(PutRepositoryCatalogDataCommand)[0].args[0].input).toEqual({
      repositoryName: 'charts/app',
      catalogData: { description: 'An app', aboutText: '# app\n\nInstall it.' }
    })
    expect(core.info).toHaveBeenCalledWith('Created repository charts/app (1 tag)')
  })
})
