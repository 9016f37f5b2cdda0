import { describe, expect, it, test } from 'vitest'
import {
  CATALOG_LIMITS,
  catalogFollowUp,
  followUpFailure,
  lifecycleFollowUp,
  policyFollowUp,
  privateRepositoryRequests,
  publicRepositoryRequests,
  pullPolicy,
  pullPolicyText
} from '../../src/registry/repository-requests.js'
import { partitionOf } from '../../src/registry/registry-host.js'
import {
  NO_REPOSITORY_SETTINGS,
  type RepositorySettings
} from '../../src/registry/repository-settings.js'

const PULL = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability']
const LIFECYCLE = '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged"}}]}'

const settings = (over: Partial<RepositorySettings>): RepositorySettings => ({
  ...NO_REPOSITORY_SETTINGS,
  ...over
})

function requests(over: Partial<RepositorySettings>, partition = 'aws', registryId?: string) {
  return privateRepositoryRequests({
    repositoryName: 'charts/el-testo',
    registryId,
    mutability: 'IMMUTABLE',
    settings: settings(over),
    partition
  })
}

describe('CreateRepository (private ECR), one row per input', () => {
  const bare = {
    repositoryName: 'charts/el-testo',
    imageTagMutability: 'IMMUTABLE',
    imageScanningConfiguration: { scanOnPush: false },
    encryptionConfiguration: { encryptionType: 'AES256' }
  }
  test.each([
    ['no settings', {}, bare],
    [
      'repository-tags',
      {
        tags: [
          { Key: 'team', Value: 'platform' },
          { Key: 'cost-center', Value: '' }
        ]
      },
      {
        ...bare,
        tags: [
          { Key: 'team', Value: 'platform' },
          { Key: 'cost-center', Value: '' }
        ]
      }
    ],
    [
      'scan-on-push',
      { scanOnPush: true },
      { ...bare, imageScanningConfiguration: { scanOnPush: true } }
    ],
    [
      'kms-key (alias)',
      { kmsKey: 'alias/ecr-charts' },
      { ...bare, encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/ecr-charts' } }
    ],
    [
      'kms-key (ARN)',
      { kmsKey: 'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
      {
        ...bare,
        encryptionConfiguration: {
          encryptionType: 'KMS',
          kmsKey: 'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
        }
      }
    ],
    // Lifecycle and pull access are follow-up calls, never part of CreateRepository.
    ['lifecycle-policy', { lifecyclePolicy: { display: 'l.json', text: LIFECYCLE } }, bare],
    ['pull-accounts', { pull: { accounts: ['111122223333'], organizations: [] } }, bare]
  ])('%s', (_input, over, create) => {
    expect(requests(over).create).toEqual(create)
  })

  it('names the registry when the registry input does', () => {
    const r = requests(
      {
        lifecyclePolicy: { display: 'l.json', text: LIFECYCLE },
        pull: { accounts: ['111122223333'], organizations: [] }
      },
      'aws',
      '123456789012'
    )
    expect(r.create.registryId).toBe('123456789012')
    expect(r.lifecycle?.registryId).toBe('123456789012')
    expect(r.policy?.registryId).toBe('123456789012')
  })

  it('sends the lifecycle policy text as given', () => {
    const r = requests({ lifecyclePolicy: { display: 'l.json', text: LIFECYCLE } })
    expect(r.lifecycle).toEqual({
      repositoryName: 'charts/el-testo',
      lifecyclePolicyText: LIFECYCLE
    })
    expect(r.policy).toBeUndefined()
  })

  it('has no follow-ups without lifecycle-policy and pull-accounts', () => {
    expect(requests({ tags: [{ Key: 'a', Value: 'b' }], scanOnPush: true })).toEqual({
      create: expect.any(Object)
    })
  })
})

describe('pull policy, per partition', () => {
  test.each([
    ['eu-west-2', 'aws'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-gov-east-1', 'aws-us-gov'],
    ['cn-north-1', 'aws-cn'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eusc-de-east-1', 'aws-eusc']
  ])(
    '%s (%s): accounts as root principals, organisations by aws:PrincipalOrgID',
    (region, partition) => {
      expect(partitionOf(region)).toBe(partition)
      const pull = { accounts: ['111122223333', '444455556666'], organizations: ['o-a1b2c3d4e5'] }
      expect(pullPolicy(pull, partition)).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'PullFromAccounts',
            Effect: 'Allow',
            Principal: {
              AWS: [
                `arn:${partition}:iam::111122223333:root`,
                `arn:${partition}:iam::444455556666:root`
              ]
            },
            Action: PULL
          },
          {
            Sid: 'PullFromOrganizations',
            Effect: 'Allow',
            Principal: '*',
            Action: PULL,
            Condition: { StringEquals: { 'aws:PrincipalOrgID': ['o-a1b2c3d4e5'] } }
          }
        ]
      })
      const policy = requests({ pull }, partition).policy
      expect(JSON.parse(policy?.policyText ?? '')).toEqual(pullPolicy(pull, partition))
      // every ARN in the policy is in the registry's partition
      for (const arn of policy?.policyText?.match(/arn:[^"]+/g) ?? []) {
        expect(arn.startsWith(`arn:${partition}:`)).toBe(true)
      }
    }
  )

  test.each([
    [{ accounts: ['111122223333'], organizations: [] }, ['PullFromAccounts']],
    [{ accounts: [], organizations: ['o-a1b2c3d4e5', 'o-f6g7h8i9j0'] }, ['PullFromOrganizations']]
  ])('%j has only the statements it needs', (pull, sids) => {
    expect(pullPolicy(pull, 'aws').Statement.map(s => s.Sid)).toEqual(sids)
  })

  it('refuses a policy longer than ECR takes (10240 characters)', () => {
    const accounts = Array.from({ length: 400 }, (_, i) => String(100000000000 + i))
    expect(() => pullPolicyText({ accounts, organizations: [] }, 'aws-us-gov')).toThrow(
      /^Input "pull-accounts" makes a repository policy of \d+ characters; ECR takes at most 10240/
    )
  })
})

describe('ECR Public requests', () => {
  it('creates with tags and sets catalog data from Chart.yaml and README.md', () => {
    expect(
      publicRepositoryRequests({
        repositoryName: 'charts/el-testo',
        tags: [{ Key: 'team', Value: 'platform' }],
        catalog: { description: ' A test chart ', readme: '# el-testo\n\nInstall it.\n' }
      })
    ).toEqual({
      create: { repositoryName: 'charts/el-testo', tags: [{ Key: 'team', Value: 'platform' }] },
      catalog: {
        repositoryName: 'charts/el-testo',
        catalogData: { description: 'A test chart', aboutText: '# el-testo\n\nInstall it.' }
      }
    })
  })

  test.each([
    [{}, undefined],
    [{ description: 'only a description' }, { description: 'only a description' }],
    [{ readme: 'only a readme' }, { aboutText: 'only a readme' }],
    [{ description: '  ', readme: '\n' }, undefined]
  ])('catalog %j -> %j', (catalog, catalogData) => {
    const r = publicRepositoryRequests({ repositoryName: 'a', tags: [], catalog })
    expect(r.create).toEqual({ repositoryName: 'a' })
    expect(r.catalog?.catalogData).toEqual(catalogData)
  })

  it('clips text to ECR Public limits', () => {
    const r = publicRepositoryRequests({
      repositoryName: 'a',
      tags: [],
      catalog: { description: 'd'.repeat(5000), readme: 'r'.repeat(100000) }
    })
    expect(r.catalog?.catalogData?.description).toHaveLength(CATALOG_LIMITS.description)
    expect(r.catalog?.catalogData?.aboutText).toHaveLength(CATALOG_LIMITS.aboutText)
    expect(r.catalog?.catalogData?.aboutText?.endsWith('…')).toBe(true)
  })
})

describe('follow-up failures', () => {
  const r = requests(
    {
      lifecyclePolicy: { display: 'ecr/lifecycle.json', text: LIFECYCLE },
      pull: { accounts: ['111122223333'], organizations: [] }
    },
    'aws-us-gov',
    '123456789012'
  )

  it('names the IAM action, says the repository exists and how to finish', () => {
    const lifecycle = lifecycleFollowUp(
      r.lifecycle as NonNullable<typeof r.lifecycle>,
      'us-gov-west-1',
      'ecr/lifecycle.json'
    )
    const message = followUpFailure('charts/el-testo', [
      { followUp: lifecycle, denied: true, reason: 'AccessDeniedException: not authorized' }
    ])
    expect(message).toBe(
      `Repository charts/el-testo was created, but AWS denied ecr:PutLifecyclePolicy (AccessDeniedException: not authorized), so it has no lifecycle policy: grant ecr:PutLifecyclePolicy to the job's role and run "aws ecr put-lifecycle-policy --repository-name charts/el-testo --registry-id 123456789012 --lifecycle-policy-text file://ecr/lifecycle.json --region us-gov-west-1"; or delete the repository and re-run (a re-run leaves an existing repository as it is).`
    )
    expect(message).not.toContain('\n')
  })

  it('puts every failed call in one line; the policy command carries the policy', () => {
    const policy = policyFollowUp(r.policy as NonNullable<typeof r.policy>, 'us-gov-west-1')
    expect(policy.command).toBe(
      `aws ecr set-repository-policy --repository-name charts/el-testo --registry-id 123456789012 --policy-text '${r.policy?.policyText}' --region us-gov-west-1`
    )
    const message = followUpFailure('charts/el-testo', [
      {
        followUp: lifecycleFollowUp(
          r.lifecycle as NonNullable<typeof r.lifecycle>,
          'us-gov-west-1',
          'l.json'
        ),
        denied: true,
        reason: 'denied'
      },
      { followUp: policy, denied: false, reason: 'InvalidParameterException: bad principal' }
    ])
    expect(message).toContain(
      'AWS denied ecr:PutLifecyclePolicy (denied), so it has no lifecycle policy'
    )
    expect(message).toContain(
      '; and ecr:SetRepositoryPolicy failed (InvalidParameterException: bad principal), so it has no pull policy: run "aws ecr set-repository-policy'
    )
  })

  it('ECR Public catalog data: quotes the JSON for the shell', () => {
    const catalog = publicRepositoryRequests({
      repositoryName: 'a',
      tags: [],
      catalog: { description: "Bob's chart" }
    }).catalog
    expect(catalogFollowUp(catalog as NonNullable<typeof catalog>)).toEqual({
      action: 'ecr-public:PutRepositoryCatalogData',
      missing: 'its catalog data',
      command: `aws ecr-public put-repository-catalog-data --repository-name a --catalog-data '{"description":"Bob'\\''s chart"}' --region us-east-1`
    })
  })
})
