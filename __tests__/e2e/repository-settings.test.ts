/**
 * Issue 13: repositories created with tags, scanning, KMS, a lifecycle policy and cross-account
 * pull, through the bundled action against the ECR emulator (which checks the requests as ECR
 * does: tag rules, encryption, lifecycle JSON, policy principals in the signed region's
 * partition) with Helm 4.1.4 from a pre-warmed tool cache.
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { errorLines, runAction } from '../../testbed/runner.js'
import { manifestPuts, workspaceWith } from '../../testbed/scenario.js'
import { startStack, type Stack } from '../../testbed/stack.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'
import { EXPIRE_UNTAGGED_RULE } from '../../__fixtures__/lifecycle.js'

const PULL = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability']
const LIFECYCLE = `${JSON.stringify(
  {
    rules: [
      EXPIRE_UNTAGGED_RULE,
      {
        rulePriority: 2,
        description: 'Keep the last 50 versions',
        selection: {
          tagStatus: 'tagged',
          tagPatternList: ['*'],
          countType: 'imageCountMoreThan',
          countNumber: 50
        },
        action: { type: 'expire' }
      }
    ]
  },
  null,
  2
)}\n`

let stack: Stack
let toolCache: string
beforeAll(async () => {
  stack = await startStack({ helmVersions: [HELM_VERSIONS.v4] })
  toolCache = await prewarmedToolCache([HELM_VERSIONS.v4])
})
afterAll(async () => {
  await stack?.stop()
})

async function workspace(chart: string, files: Record<string, string> = {}): Promise<string> {
  const ws = await workspaceWith([
    { name: chart, version: '0.1.0', description: `The ${chart} chart` }
  ])
  await writeFile(path.join(ws, 'lifecycle.json'), LIFECYCLE)
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(ws, file), text)
  return ws
}

function run(ws: string, inputs: Record<string, string>, env: Record<string, string> = {}) {
  return runAction({
    workspace: ws,
    toolCache,
    env: { ...stack.actionEnv, ...env },
    inputs: {
      'helm-version': HELM_VERSIONS.v4,
      'helm-download-url': stack.mirror.url,
      'create-repository': 'true',
      ...inputs
    },
    timeoutMs: 60_000
  })
}

/** The inputs of the calls of `op` for one repository. */
function callsFor(op: string, repositoryName: string) {
  return stack.ecr.requestsOf(op).filter(input => input.repositoryName === repositoryName)
}

const ALL_SETTINGS = {
  'repository-tags': 'team=platform, cost-center=1234\nowner=charts@example.com',
  'scan-on-push': 'true',
  'kms-key': 'alias/ecr-charts',
  'lifecycle-policy': 'lifecycle.json',
  'pull-accounts': '111122223333\n444455556666, o-a1b2c3d4e5'
}

describe('private ECR', () => {
  it('creates the repository with every setting in CreateRepository, then the lifecycle and pull policies', async () => {
    const chart = 'settings-all'
    const ws = await workspace(chart)
    const result = await run(ws, { charts: `charts/${chart}`, ...ALL_SETTINGS })
    expect(errorLines(result.stdout), result.stdout).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs.pushed).toBe('true')

    const [create] = callsFor('CreateRepository', chart)
    expect(create).toEqual({
      repositoryName: chart,
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'KMS', kmsKey: 'alias/ecr-charts' },
      tags: [
        { Key: 'team', Value: 'platform' },
        { Key: 'cost-center', Value: '1234' },
        { Key: 'owner', Value: 'charts@example.com' }
      ]
    })
    // The lifecycle policy arrives exactly as the file has it.
    expect(callsFor('PutLifecyclePolicy', chart)).toEqual([
      { repositoryName: chart, lifecyclePolicyText: LIFECYCLE }
    ])
    const [policy] = callsFor('SetRepositoryPolicy', chart)
    expect(JSON.parse(String(policy.policyText))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'PullFromAccounts',
          Effect: 'Allow',
          Principal: {
            AWS: ['arn:aws:iam::111122223333:root', 'arn:aws:iam::444455556666:root']
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
    expect(stack.ecr.repositories()[chart]).toMatchObject({
      scanOnPush: true,
      encryption: { encryptionType: 'KMS', kmsKey: 'alias/ecr-charts' },
      lifecyclePolicyText: LIFECYCLE,
      partition: 'aws'
    })
    // Follow-ups only after the repository exists.
    const ops = stack.ecr.apiCalls.filter(c => c.input?.repositoryName === chart).map(c => c.op)
    expect(ops.indexOf('CreateRepository')).toBeLessThan(ops.indexOf('PutLifecyclePolicy'))
    expect(ops.indexOf('CreateRepository')).toBeLessThan(ops.indexOf('SetRepositoryPolicy'))
    expect(result.stdout).toContain(
      `Created repository ${chart} (MUTABLE, repository-tags, scan-on-push, kms-key, lifecycle-policy, pull-accounts)`
    )

    // A re-run finds the repository and leaves it alone (and says so).
    const again = await run(ws, { charts: `charts/${chart}`, version: '0.2.0', ...ALL_SETTINGS })
    expect(again.exitCode).toBe(0)
    expect(again.stdout).toContain(
      `Repository ${chart} exists; left as it is (repository-tags, scan-on-push, kms-key, lifecycle-policy, pull-accounts apply only to repositories this step creates)`
    )
    expect(callsFor('PutLifecyclePolicy', chart)).toHaveLength(1)
    expect(callsFor('SetRepositoryPolicy', chart)).toHaveLength(1)
  })

  it('GovCloud: ARNs in the aws-us-gov partition, accepted by the emulator for us-gov-west-1', async () => {
    const chart = 'settings-gov'
    const ws = await workspace(chart)
    const kmsKey =
      'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    const result = await run(
      ws,
      {
        charts: `charts/${chart}`,
        'kms-key': kmsKey,
        'lifecycle-policy': 'lifecycle.json',
        'pull-accounts': '111122223333, o-a1b2c3d4e5'
      },
      { AWS_REGION: 'us-gov-west-1' }
    )
    expect(errorLines(result.stdout), result.stdout).toEqual([])
    expect(result.exitCode).toBe(0)
    const create = stack.ecr.apiCalls.find(
      c => c.op === 'CreateRepository' && c.input?.repositoryName === chart
    )
    expect(create?.region).toBe('us-gov-west-1')
    expect(create?.input?.encryptionConfiguration).toEqual({ encryptionType: 'KMS', kmsKey })
    const [policy] = callsFor('SetRepositoryPolicy', chart)
    const text = String(policy.policyText)
    expect(JSON.parse(text).Statement[0].Principal).toEqual({
      AWS: ['arn:aws-us-gov:iam::111122223333:root']
    })
    expect(text).not.toMatch(/arn:aws:/)
    expect(stack.ecr.repositories()[chart]).toMatchObject({
      partition: 'aws-us-gov',
      lifecyclePolicyText: LIFECYCLE,
      policyText: text
    })
  })

  it('an invalid lifecycle file fails before any AWS call', async () => {
    const chart = 'settings-badlife'
    const bad = LIFECYCLE.replace('"countUnit": "days",', '')
    const ws = await workspace(chart, { 'bad-lifecycle.json': bad })
    const calls = stack.ecr.apiCalls.length
    const result = await run(ws, {
      charts: `charts/${chart}`,
      'lifecycle-policy': 'bad-lifecycle.json'
    })
    expect(errorLines(result.stdout)).toEqual([
      'Input "lifecycle-policy" (bad-lifecycle.json) rule 1 (rulePriority 1) has countType "sinceImagePushed", so it needs "countUnit": "days".'
    ])
    expect(result.exitCode).toBe(1)
    expect(stack.ecr.apiCalls.length).toBe(calls)
  })

  it('a denied PutLifecyclePolicy fails the chart with one line; fixing by hand and re-running works', async () => {
    const chart = 'settings-denied'
    const ws = await workspace(chart)
    const puts = manifestPuts(stack)
    stack.ecr.faults.accessDenied('PutLifecyclePolicy')
    try {
      const result = await run(ws, {
        charts: `charts/${chart}`,
        'lifecycle-policy': 'lifecycle.json',
        'pull-accounts': '111122223333'
      })
      const errors = errorLines(result.stdout)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(
        new RegExp(
          `^Repository ${chart} was created, but AWS denied ecr:PutLifecyclePolicy \\(AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/e2e-publisher/e2e is not authorized to perform: ecr:PutLifecyclePolicy .*\\), so it has no lifecycle policy: grant ecr:PutLifecyclePolicy to the job's role and run "aws ecr put-lifecycle-policy --repository-name ${chart} --lifecycle-policy-text file://lifecycle.json --region eu-west-2"; or delete the repository and re-run \\(a re-run leaves an existing repository as it is\\)\\.$`
        )
      )
      expect(result.exitCode).toBe(1)
      expect(result.outputs.pushed).toBe('false')
      expect(manifestPuts(stack)).toBe(puts)
      // The repository exists, with the calls that were allowed.
      expect(stack.ecr.repositories()[chart]).toBeDefined()
      expect(callsFor('SetRepositoryPolicy', chart)).toHaveLength(1)
    } finally {
      stack.ecr.faults.clear()
    }
    const again = await run(ws, { charts: `charts/${chart}`, 'lifecycle-policy': 'lifecycle.json' })
    expect(again.exitCode).toBe(0)
    expect(again.stdout).toContain(`Repository ${chart} exists; left as it is`)
    expect(callsFor('PutLifecyclePolicy', chart)).toHaveLength(0)
  })
})

describe('ECR Public', () => {
  it('creates the repository with tags and sets catalog data from Chart.yaml and README.md', async () => {
    const chart = 'settings-public'
    const readme =
      '# settings-public\n\nA chart for the public gallery.\n\n```sh\nhelm install x\n```\n'
    const ws = await workspace(chart)
    await writeFile(path.join(ws, 'charts', chart, 'README.md'), readme)
    const result = await run(ws, {
      charts: `charts/${chart}`,
      registry: 'public.ecr.aws',
      namespace: 'e2e-alias',
      'repository-tags': 'team=platform',
      // The test world has no public.ecr.aws registry front, so the login there fails. With
      // skip-existing the repository is made (and looked up through the API) beside the login
      // instead of after it, so creation and catalog data still happen and can be checked.
      'skip-existing': 'true'
    })
    expect(stack.ecr.requestsOf('ecr-public:CreateRepository')).toContainEqual({
      repositoryName: chart,
      tags: [{ Key: 'team', Value: 'platform' }]
    })
    expect(stack.ecr.requestsOf('ecr-public:PutRepositoryCatalogData')).toContainEqual({
      repositoryName: chart,
      catalogData: { description: `The ${chart} chart`, aboutText: readme.trim() }
    })
    expect(stack.ecr.publicRepositories()[chart]?.catalogData).toEqual({
      description: `The ${chart} chart`,
      aboutText: readme.trim()
    })
    expect(
      stack.ecr.apiCalls.find(
        c => c.op === 'ecr-public:DescribeImages' && c.input?.repositoryName === chart
      )?.error
    ).toBe('ImageNotFoundException')
    // The login to public.ecr.aws is the run's one error.
    expect(errorLines(result.stdout)).toEqual([
      expect.stringMatching(/^Could not log in to registry public\.ecr\.aws/)
    ])
  })
})
