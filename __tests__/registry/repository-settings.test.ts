import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it, test } from 'vitest'
import { UserError } from '../../src/errors.js'
import {
  checkKmsKeyPlacement,
  kmsKeyForm,
  parseKmsKey,
  parseLifecyclePolicy,
  parsePullAccounts,
  parseRepositoryTags,
  readLifecyclePolicyFile
} from '../../src/registry/repository-settings.js'
import { errorOf } from '../../__fixtures__/rejection.js'
import { EXPIRE_UNTAGGED_RULE } from '../../__fixtures__/lifecycle.js'

describe('parseRepositoryTags', () => {
  test.each([
    ['', []],
    ['team=platform', [{ Key: 'team', Value: 'platform' }]],
    [
      'team=platform, cost-center=1234',
      [
        { Key: 'team', Value: 'platform' },
        { Key: 'cost-center', Value: '1234' }
      ]
    ],
    [
      'team = platform\n# a comment\n\nowner=a@b.example',
      [
        { Key: 'team', Value: 'platform' },
        { Key: 'owner', Value: 'a@b.example' }
      ]
    ],
    ['empty=', [{ Key: 'empty', Value: '' }]],
    ['url=https://x.example/a=b', [{ Key: 'url', Value: 'https://x.example/a=b' }]],
    ['Kostenstelle=Zürich 7', [{ Key: 'Kostenstelle', Value: 'Zürich 7' }]],
    [`${'k'.repeat(128)}=${'v'.repeat(256)}`, [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }]]
  ])('%j', (value, tags) => {
    expect(parseRepositoryTags(value)).toEqual(tags)
  })

  test.each([
    ['team', 'entry "team" is not key=value'],
    ['=platform', 'key "" must be 1 to 128 characters long'],
    [`${'k'.repeat(129)}=v`, 'must be 1 to 128 characters long (it has 129)'],
    [`k=${'v'.repeat(257)}`, 'value of "k" must be at most 256 characters long'],
    ['team=plat;form', 'value "plat;form" has a character ECR does not allow'],
    ['te*am=x', 'key "te*am" has a character ECR does not allow'],
    ['aws:createdBy=me', 'starts with "aws:"'],
    ['AWS:x=me', 'starts with "aws:"'],
    ['a=1, a=2', 'sets key "a" twice'],
    [
      Array.from({ length: 51 }, (_, i) => `k${i}=v`).join(','),
      'has 51 tags; ECR allows at most 50'
    ]
  ])('%j fails', (value, message) => {
    const error = errorOf(() => parseRepositoryTags(value))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toMatch(/^Input "repository-tags"/)
    expect(error.message).toContain(message)
  })
})

describe('KMS keys', () => {
  test.each([
    ['1234abcd-12ab-34cd-56ef-1234567890ab', 'key-id'],
    ['mrk-1234abcd12ab34cd56ef1234567890ab', 'key-id'],
    ['alias/ecr-charts', 'alias'],
    ['alias/team/charts_1', 'alias'],
    ['arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'key-arn'],
    [
      'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'key-arn'
    ],
    ['arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab', 'key-arn'],
    ['arn:aws-iso-b:kms:us-isob-east-1:123456789012:alias/charts', 'alias-arn'],
    ['arn:aws-eusc:kms:eusc-de-east-1:123456789012:alias/charts', 'alias-arn']
  ])('%s is a %s', (key, form) => {
    expect(kmsKeyForm(key)).toBe(form)
    expect(parseKmsKey(` ${key} `)).toBe(key)
  })

  test.each([
    'my-key',
    '1234ABCD-12AB-34CD-56EF-1234567890AB',
    'alias/',
    'alias/with space',
    'arn:aws:kms:eu-west-2:12345:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    'arn:aws:kms:eu-west-2:123456789012:key/not-a-key',
    'arn:aws:s3:::bucket'
  ])('%s is refused', key => {
    expect(() => parseKmsKey(key)).toThrow('Input "kms-key" must be a KMS key ID')
  })

  it('is empty for the default encryption', () => {
    expect(parseKmsKey('  ')).toBeUndefined()
  })

  test.each([
    ['aws', 'eu-west-2', 'arn:aws:kms:eu-west-2:123456789012:alias/x', true],
    ['aws-us-gov', 'us-gov-west-1', 'arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/x', true],
    ['aws-us-gov', 'us-gov-west-1', 'arn:aws:kms:us-gov-west-1:123456789012:alias/x', false],
    ['aws', 'eu-west-2', 'arn:aws:kms:eu-west-1:123456789012:alias/x', false],
    ['aws-cn', 'cn-north-1', 'alias/x', true],
    ['aws-cn', 'cn-north-1', '1234abcd-12ab-34cd-56ef-1234567890ab', true]
  ])('in %s/%s, %s fits: %s', (partition, region, key, fits) => {
    const check = () => checkKmsKeyPlacement(key, partition, region)
    if (fits) expect(check).not.toThrow()
    else expect(check).toThrow(`but the registry is in ${partition}/${region}`)
  })
})

describe('parsePullAccounts', () => {
  test.each([
    ['', { accounts: [], organizations: [] }],
    ['111122223333', { accounts: ['111122223333'], organizations: [] }],
    [
      '111122223333, 444455556666\n111122223333',
      { accounts: ['111122223333', '444455556666'], organizations: [] }
    ],
    ['o-a1b2c3d4e5', { accounts: [], organizations: ['o-a1b2c3d4e5'] }],
    [
      `o-${'a'.repeat(32)}, 111122223333`,
      { accounts: ['111122223333'], organizations: [`o-${'a'.repeat(32)}`] }
    ]
  ])('%j', (value, principals) => {
    expect(parsePullAccounts(value)).toEqual(principals)
  })

  test.each([
    ['11112222333', 'is not a 12-digit AWS account ID'],
    ['1111222233334', 'is not a 12-digit AWS account ID'],
    ['1111-2222-3333', 'is not a 12-digit AWS account ID'],
    ['o-abc', 'is neither a 12-digit AWS account ID nor an organisation ID'],
    ['o-A1B2C3D4E5', 'is neither'],
    [`o-${'a'.repeat(33)}`, 'is neither'],
    ['r-abcd', 'is neither'],
    ['arn:aws:iam::111122223333:root', 'is neither']
  ])('%j fails', (value, message) => {
    const error = errorOf(() => parsePullAccounts(value))
    expect(error.message).toMatch(/^Input "pull-accounts" entry/)
    expect(error.message).toContain(message)
  })
})

type Rule = Record<string, unknown>
const untagged: Rule = EXPIRE_UNTAGGED_RULE
const keepTen: Rule = {
  rulePriority: 2,
  selection: {
    tagStatus: 'tagged',
    tagPatternList: ['v*'],
    countType: 'imageCountMoreThan',
    countNumber: 10
  },
  action: { type: 'expire' }
}
const policy = (...rules: Rule[]): string => JSON.stringify({ rules }, null, 2)
const withSelection = (selection: Record<string, unknown>, rest: Rule = {}): Rule => ({
  ...untagged,
  ...rest,
  selection: { ...(untagged.selection as object), ...selection }
})

describe('parseLifecyclePolicy', () => {
  test.each([
    ['untagged, sinceImagePushed', policy(untagged)],
    ['tagged with patterns, imageCountMoreThan', policy(untagged, keepTen)],
    [
      'tagged with prefixes',
      policy(withSelection({ tagStatus: 'tagged', tagPrefixList: ['pr-', 'dev-'] }))
    ],
    [
      '"any" with the highest priority',
      policy(untagged, keepTen, {
        rulePriority: 9,
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 500 },
        action: { type: 'expire' }
      })
    ],
    [
      'archive transition and sinceImageTransitioned (ECR archive storage class)',
      policy(
        withSelection(
          { countType: 'sinceImagePulled', countNumber: 90 },
          { action: { type: 'transition', targetStorageClass: 'archive' } }
        ),
        withSelection(
          { countType: 'sinceImageTransitioned', storageClass: 'archive', countNumber: 365 },
          { rulePriority: 2 }
        )
      )
    ],
    [
      'four wildcards',
      policy({
        ...keepTen,
        selection: { ...(keepTen.selection as object), tagPatternList: ['*a*b*c*'] }
      })
    ]
  ])('accepts %s, returning the text as given', (_what, text) => {
    expect(parseLifecyclePolicy(text, 'ecr/lifecycle.json')).toBe(text)
  })

  test.each([
    ['not JSON', `${policy(untagged)},`, 'is not valid JSON'],
    ['too short', '{"rules":[]}', 'is 12 characters long; ECR takes 100 to 30720'],
    ['too long', policy(untagged).padEnd(30721, ' '), 'is 30721 characters long'],
    ['no rules', JSON.stringify({ rules: [], pad: 'x'.repeat(100) }), 'needs a "rules" array'],
    ['rules not an array', JSON.stringify({ rules: untagged }), 'needs a "rules" array'],
    ['priority 0', policy({ ...untagged, rulePriority: 0 }), 'rule 1 needs "rulePriority"'],
    ['priority 1.5', policy({ ...untagged, rulePriority: 1.5 }), 'rule 1 needs "rulePriority"'],
    [
      'priority as a string',
      policy({ ...untagged, rulePriority: '1' }),
      'rule 1 needs "rulePriority"'
    ],
    [
      'repeated priority',
      policy(untagged, { ...keepTen, rulePriority: 1 }),
      'rule 2 repeats rulePriority 1'
    ],
    ['no selection', policy({ ...untagged, selection: undefined }), 'needs a "selection" object'],
    [
      'bad tagStatus',
      policy(withSelection({ tagStatus: 'all' })),
      'selection.tagStatus must be one of "tagged", "untagged", "any"'
    ],
    [
      'tagged without lists',
      policy(withSelection({ tagStatus: 'tagged' })),
      'needs "tagPatternList" or "tagPrefixList"'
    ],
    [
      'tagged with both lists',
      policy(withSelection({ tagStatus: 'tagged', tagPatternList: ['a*'], tagPrefixList: ['a'] })),
      'has both "tagPatternList" and "tagPrefixList"'
    ],
    [
      'untagged with a list',
      policy(withSelection({ tagPrefixList: ['a'] })),
      'takes no "tagPatternList" or "tagPrefixList"'
    ],
    [
      'empty pattern list',
      policy(withSelection({ tagStatus: 'tagged', tagPatternList: [] })),
      '"tagPatternList" must be a list of non-empty strings'
    ],
    [
      'five wildcards',
      policy(withSelection({ tagStatus: 'tagged', tagPatternList: ['*a*b*c*d*'] })),
      'more than 4 wildcards'
    ],
    [
      'bad countType',
      policy(withSelection({ countType: 'sinceImageCreated' })),
      'selection.countType must be one of'
    ],
    [
      'countNumber 0',
      policy(withSelection({ countNumber: 0 })),
      'countNumber must be a whole number of 1 or more'
    ],
    [
      'countNumber missing',
      policy(withSelection({ countNumber: undefined })),
      'countNumber must be a whole number'
    ],
    [
      'sinceImagePushed without days',
      policy(withSelection({ countUnit: undefined })),
      'needs "countUnit": "days"'
    ],
    ['countUnit hours', policy(withSelection({ countUnit: 'hours' })), 'needs "countUnit": "days"'],
    [
      'imageCountMoreThan with a unit',
      policy(withSelection({ countType: 'imageCountMoreThan', countUnit: 'days' })),
      'takes no "countUnit"'
    ],
    [
      'sinceImageTransitioned without archive',
      policy(withSelection({ countType: 'sinceImageTransitioned' })),
      'needs "storageClass": "archive"'
    ],
    [
      'archive without sinceImageTransitioned',
      policy(withSelection({ storageClass: 'archive' })),
      'only countType "sinceImageTransitioned" takes'
    ],
    ['no action', policy({ ...untagged, action: undefined }), 'needs "action": {"type": "expire"}'],
    [
      'action delete',
      policy({ ...untagged, action: { type: 'delete' } }),
      'needs "action": {"type": "expire"}'
    ],
    [
      'transition without target',
      policy({ ...untagged, action: { type: 'transition' } }),
      'needs "targetStorageClass": "archive"'
    ],
    [
      '"any" not last',
      policy(
        {
          ...untagged,
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 }
        },
        keepTen
      ),
      'give it the highest rulePriority (above 2)'
    ],
    [
      'two "any" rules',
      policy(
        {
          ...untagged,
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 }
        },
        {
          ...keepTen,
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 6 }
        }
      ),
      'second rule with tagStatus "any"'
    ]
  ])('refuses %s', (_what, text, message) => {
    const error = errorOf(() => parseLifecyclePolicy(text, 'ecr/lifecycle.json'))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toMatch(/^Input "lifecycle-policy" \(ecr\/lifecycle\.json\) /)
    expect(error.message).toContain(message)
  })
})

describe('readLifecyclePolicyFile', () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-'))
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-outside-'))
  afterAll(() => {
    fs.rmSync(workspace, { recursive: true, force: true })
    fs.rmSync(outside, { recursive: true, force: true })
  })
  fs.mkdirSync(path.join(workspace, 'ecr'))
  fs.writeFileSync(path.join(workspace, 'ecr', 'lifecycle.json'), policy(untagged))
  fs.writeFileSync(path.join(outside, 'p.json'), policy(untagged))
  fs.symlinkSync(path.join(outside, 'p.json'), path.join(workspace, 'escape.json'))

  it('reads and validates a file in the workspace', () => {
    expect(readLifecyclePolicyFile(' ecr/lifecycle.json ', workspace)).toEqual({
      display: 'ecr/lifecycle.json',
      text: policy(untagged)
    })
    expect(readLifecyclePolicyFile('', workspace)).toBeUndefined()
  })

  test.each([
    ['missing.json', 'names a file that does not exist (missing.json)'],
    ['ecr', '(ecr) cannot be read (EISDIR)'],
    ['../x.json', 'is outside the workspace'],
    ['escape.json', 'is outside the workspace']
  ])('%s fails', (value, message) => {
    expect(() => readLifecyclePolicyFile(value, workspace)).toThrow(message)
  })
})
