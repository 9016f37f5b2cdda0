import { Input } from '../constants.js'
import { UserError } from '../errors.js'
import type { LifecyclePolicy } from './lifecycle-policy.js'

/* Settings for repositories this step creates: tags, scanning, KMS, lifecycle and pull access.
   Parsing and validation are pure (ECR's own rules, so a bad value fails before any AWS write).
   The lifecycle policy file (read from disk, checked against a schema) is in lifecycle-policy.ts. */

export interface ResourceTag {
  Key: string
  Value: string
}

/** Who may pull from repositories this step creates (beyond the registry's own account). */
export interface PullPrincipals {
  accounts: string[]
  organizations: string[]
}

export interface RepositorySettings {
  tags: ResourceTag[]
  scanOnPush: boolean
  /** KMS key ARN, key ID or alias; undefined means the default (AES256). */
  kmsKey?: string
  lifecyclePolicy?: LifecyclePolicy
  pull: PullPrincipals
}

export const NO_REPOSITORY_SETTINGS: RepositorySettings = {
  tags: [],
  scanOnPush: false,
  pull: { accounts: [], organizations: [] }
}

/** Names of the inputs that are set (not at their defaults), in action.yml order. */
export function repositorySettingInputs(settings: RepositorySettings): string[] {
  const set: string[] = []
  if (settings.tags.length > 0) set.push(Input.RepositoryTags)
  if (settings.scanOnPush) set.push(Input.ScanOnPush)
  if (settings.kmsKey) set.push(Input.KmsKey)
  if (settings.lifecyclePolicy) set.push(Input.LifecyclePolicy)
  if (hasPullPrincipals(settings.pull)) set.push(Input.PullAccounts)
  return set
}

export function hasPullPrincipals(pull: PullPrincipals): boolean {
  return pull.accounts.length + pull.organizations.length > 0
}

/** `Input "a"` or `Inputs "a", "b"`: the start of a message about these inputs. */
export function namedInputs(names: string[]): string {
  return `Input${names.length > 1 ? 's' : ''} ${names.map(n => `"${n}"`).join(', ')}`
}

// ---------------------------------------------------------------- tags

/** ECR (and ECR Public) tag rules: TagResource/CreateRepository "Tag" shape. */
export const TAG_LIMITS = { maxTags: 50, maxKey: 128, maxValue: 256 } as const
// Unicode letters, separators (spaces), numbers and _ . : / = + - @
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u

function splitItems(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map(item => item.trim())
    .filter(item => item !== '' && !item.startsWith('#'))
}

/** `team=platform, cost-center=1234` (or one per line) -> [{Key, Value}], checked against ECR's rules. */
export function parseRepositoryTags(value: string): ResourceTag[] {
  const name = Input.RepositoryTags
  const tags: ResourceTag[] = []
  const seen = new Set<string>()
  for (const item of splitItems(value)) {
    const eq = item.indexOf('=')
    if (eq < 0) {
      throw new UserError(
        `Input "${name}" entry "${item}" is not key=value: write tags as "team=platform, cost-center=1234" (comma- or newline-separated).`
      )
    }
    const Key = item.slice(0, eq).trim()
    const Value = item.slice(eq + 1).trim()
    const length = [...Key].length
    if (length < 1 || length > TAG_LIMITS.maxKey) {
      throw new UserError(
        `Input "${name}" key "${Key}" must be 1 to ${TAG_LIMITS.maxKey} characters long (it has ${length}): shorten it.`
      )
    }
    if ([...Value].length > TAG_LIMITS.maxValue) {
      throw new UserError(
        `Input "${name}" value of "${Key}" must be at most ${TAG_LIMITS.maxValue} characters long: shorten it.`
      )
    }
    for (const [what, text] of [
      ['key', Key],
      ['value', Value]
    ] as const) {
      if (!TAG_CHARACTERS.test(text)) {
        throw new UserError(
          `Input "${name}" ${what} "${text}" has a character ECR does not allow in tags: use letters, digits, spaces and _ . : / = + - @ only.`
        )
      }
    }
    if (Key.toLowerCase().startsWith('aws:')) {
      throw new UserError(
        `Input "${name}" key "${Key}" starts with "aws:", which AWS reserves for its own tags: choose another key.`
      )
    }
    if (seen.has(Key)) {
      throw new UserError(`Input "${name}" sets key "${Key}" twice: keep one of them.`)
    }
    seen.add(Key)
    tags.push({ Key, Value })
  }
  if (tags.length > TAG_LIMITS.maxTags) {
    throw new UserError(
      `Input "${name}" has ${tags.length} tags; ECR allows at most ${TAG_LIMITS.maxTags} per repository: remove some.`
    )
  }
  return tags
}

// ---------------------------------------------------------------- KMS key

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
const KEY_ID = `(?:${UUID}|mrk-[0-9a-f]{32})`
const ALIAS_NAME = 'alias/[a-zA-Z0-9/_-]{1,250}'
const PARTITION = 'aws(?:-[a-z]+(?:-[a-z])?)*'
const REGION = '[a-z]{2,4}(?:-[a-z]+)+-\\d+'
const KMS_KEY_ARN = new RegExp(
  `^arn:(${PARTITION}):kms:(${REGION}):(\\d{12}):(?:key/${KEY_ID}|${ALIAS_NAME})$`
)

export type KmsKeyForm = 'key-id' | 'alias' | 'key-arn' | 'alias-arn'

/** A KMS key as ECR's encryptionConfiguration.kmsKey takes it: key ID, alias, key ARN or alias ARN. */
export function parseKmsKey(value: string): string | undefined {
  const key = value.trim()
  if (key === '') return undefined
  if (kmsKeyForm(key) === undefined) {
    throw new UserError(
      `Input "${Input.KmsKey}" must be a KMS key ID (1234abcd-12ab-34cd-56ef-1234567890ab), an alias ("alias/ecr-charts"), or a key or alias ARN ("arn:aws:kms:eu-west-2:123456789012:key/…") (got "${key}").`
    )
  }
  return key
}

export function kmsKeyForm(key: string): KmsKeyForm | undefined {
  if (new RegExp(`^${KEY_ID}$`).test(key)) return 'key-id'
  if (new RegExp(`^${ALIAS_NAME}$`).test(key)) return 'alias'
  const arn = KMS_KEY_ARN.exec(key)
  if (arn) return key.includes(':alias/') ? 'alias-arn' : 'key-arn'
  return undefined
}

/**
 * A key ARN must be in the registry's partition and region (ECR: "the key must exist in the same
 * Region as the repository"). Bare IDs and aliases resolve in the repository's region anyway.
 */
export function checkKmsKeyPlacement(key: string, partition: string, region: string): void {
  const arn = KMS_KEY_ARN.exec(key)
  if (!arn) return
  const [, keyPartition, keyRegion] = arn
  if (keyPartition !== partition || keyRegion !== region) {
    throw new UserError(
      `Input "${Input.KmsKey}" is a key in ${keyPartition}/${keyRegion}, but the registry is in ${partition}/${region}: ECR needs a key in the repository's own partition and region.`
    )
  }
}

// ---------------------------------------------------------------- pull accounts

const ACCOUNT_ID = /^\d{12}$/
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/

/** 12-digit account IDs and organisation IDs (`o-…`), comma- or newline-separated. */
export function parsePullAccounts(value: string): PullPrincipals {
  const accounts: string[] = []
  const organizations: string[] = []
  for (const item of splitItems(value)) {
    if (ACCOUNT_ID.test(item)) {
      if (!accounts.includes(item)) accounts.push(item)
    } else if (ORGANIZATION_ID.test(item)) {
      if (!organizations.includes(item)) organizations.push(item)
    } else if (/^\d+$/.test(item.replace(/-/g, ''))) {
      throw new UserError(
        `Input "${Input.PullAccounts}" entry "${item}" is not a 12-digit AWS account ID: write it as 123456789012 (no dashes).`
      )
    } else {
      throw new UserError(
        `Input "${Input.PullAccounts}" entry "${item}" is neither a 12-digit AWS account ID nor an organisation ID: organisation IDs look like "o-a1b2c3d4e5" (o- then 10 to 32 lowercase letters or digits).`
      )
    }
  }
  return { accounts, organizations }
}

// The lifecycle policy file: lifecycle-policy.ts (its reader and ECR's rules, as a schema).
export {
  LIFECYCLE_TEXT_LIMITS,
  type LifecyclePolicy,
  parseLifecyclePolicy,
  readLifecyclePolicyFile
} from './lifecycle-policy.js'
