import * as fs from 'node:fs'
import * as path from 'node:path'
import { Input } from '../constants.js'
import { UserError, errorMessage } from '../errors.js'
import { isInside } from '../runtime/paths.js'

/* Settings for repositories this step creates: tags, scanning, KMS, lifecycle and pull access.
   Parsing and validation are pure (ECR's own rules, so a bad value fails before any AWS write);
   readLifecyclePolicyFile is the one function here that touches the disk. */

export interface ResourceTag {
  Key: string
  Value: string
}

/** Who may pull from repositories this step creates (beyond the registry's own account). */
export interface PullPrincipals {
  accounts: string[]
  organizations: string[]
}

export interface LifecyclePolicy {
  /** As the user wrote it in the workspace, for messages and the by-hand fix. */
  display: string
  /** The file's text, sent to PutLifecyclePolicy as given. */
  text: string
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

// ---------------------------------------------------------------- lifecycle policy

/** PutLifecyclePolicy's lifecyclePolicyText length limits. */
export const LIFECYCLE_TEXT_LIMITS = { min: 100, max: 30720 } as const

const TAG_STATUS = ['tagged', 'untagged', 'any']
const COUNT_TYPES = [
  'imageCountMoreThan',
  'sinceImagePushed',
  'sinceImagePulled',
  'sinceImageTransitioned'
]
const ACTION_TYPES = ['expire', 'transition']
const STORAGE_CLASSES = ['standard', 'archive']
const MAX_WILDCARDS = 4

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStringList(value: unknown): value is string[] {
  return (
    Array.isArray(value) && value.length > 0 && value.every(v => typeof v === 'string' && v !== '')
  )
}

function oneOf(values: string[]): string {
  return values.map(v => `"${v}"`).join(', ')
}

/**
 * Checks a lifecycle policy against ECR's rules (lifecycle policy properties in the ECR user
 * guide): rules[] with a unique positive rulePriority, a selection and an action. `where` names
 * the file. Returns the text unchanged: it is sent as given.
 */
export function parseLifecyclePolicy(text: string, where: string): string {
  const fail = (problem: string): never => {
    throw new UserError(`Input "${Input.LifecyclePolicy}" (${where}) ${problem}`)
  }
  const length = text.length
  if (length < LIFECYCLE_TEXT_LIMITS.min || length > LIFECYCLE_TEXT_LIMITS.max) {
    fail(
      `is ${length} characters long; ECR takes ${LIFECYCLE_TEXT_LIMITS.min} to ${LIFECYCLE_TEXT_LIMITS.max}: ${length < LIFECYCLE_TEXT_LIMITS.min ? 'it needs at least one complete rule' : 'shorten it'}.`
    )
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    fail(`is not valid JSON (${errorMessage(error)}): fix the file.`)
  }
  if (!isObject(doc) || !Array.isArray(doc.rules) || doc.rules.length === 0) {
    fail(
      'needs a "rules" array with at least one rule: see "Lifecycle policy properties" in the ECR user guide.'
    )
  }
  const rules = (doc as { rules: unknown[] }).rules
  const priorities = new Set<number>()
  let anyPriority: number | undefined
  let highest = 0
  rules.forEach((rule, i) => {
    const at = `rule ${i + 1}`
    if (!isObject(rule)) return fail(`${at} is not an object.`)
    const priority = rule.rulePriority
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 1) {
      return fail(`${at} needs "rulePriority", a whole number of 1 or more.`)
    }
    if (priorities.has(priority)) {
      return fail(`${at} repeats rulePriority ${priority}: give every rule its own priority.`)
    }
    priorities.add(priority)
    highest = Math.max(highest, priority)
    const at2 = `rule ${i + 1} (rulePriority ${priority})`
    if (rule.description !== undefined && typeof rule.description !== 'string') {
      fail(`${at2} "description" must be a string.`)
    }
    const selection = rule.selection
    if (!isObject(selection)) return fail(`${at2} needs a "selection" object.`)
    const tagStatus = selection.tagStatus
    if (typeof tagStatus !== 'string' || !TAG_STATUS.includes(tagStatus)) {
      return fail(`${at2} selection.tagStatus must be one of ${oneOf(TAG_STATUS)}.`)
    }
    const patterns = selection.tagPatternList
    const prefixes = selection.tagPrefixList
    if (tagStatus === 'tagged') {
      if (patterns === undefined && prefixes === undefined) {
        fail(`${at2} has tagStatus "tagged", so it needs "tagPatternList" or "tagPrefixList".`)
      }
      if (patterns !== undefined && prefixes !== undefined) {
        fail(`${at2} has both "tagPatternList" and "tagPrefixList": use one of them.`)
      }
      if (patterns !== undefined) {
        if (!isStringList(patterns))
          fail(`${at2} "tagPatternList" must be a list of non-empty strings.`)
        const wild = (patterns as string[]).find(p => (p.match(/\*/g) ?? []).length > MAX_WILDCARDS)
        if (wild !== undefined) {
          fail(
            `${at2} tag pattern "${wild}" has more than ${MAX_WILDCARDS} wildcards (*), ECR's limit.`
          )
        }
      }
      if (prefixes !== undefined && !isStringList(prefixes)) {
        fail(`${at2} "tagPrefixList" must be a list of non-empty strings.`)
      }
    } else if (patterns !== undefined || prefixes !== undefined) {
      fail(
        `${at2} has tagStatus "${tagStatus}", which takes no "tagPatternList" or "tagPrefixList": remove them or use "tagged".`
      )
    }
    if (tagStatus === 'any') {
      if (anyPriority !== undefined) fail(`${at2} is a second rule with tagStatus "any": keep one.`)
      anyPriority = priority
    }
    const countType = selection.countType
    if (typeof countType !== 'string' || !COUNT_TYPES.includes(countType)) {
      return fail(`${at2} selection.countType must be one of ${oneOf(COUNT_TYPES)}.`)
    }
    const countNumber = selection.countNumber
    if (typeof countNumber !== 'number' || !Number.isInteger(countNumber) || countNumber < 1) {
      fail(`${at2} selection.countNumber must be a whole number of 1 or more.`)
    }
    if (countType === 'imageCountMoreThan') {
      if (selection.countUnit !== undefined) {
        fail(`${at2} has countType "imageCountMoreThan", which takes no "countUnit": remove it.`)
      }
    } else if (selection.countUnit !== 'days') {
      fail(`${at2} has countType "${countType}", so it needs "countUnit": "days".`)
    }
    const storageClass = selection.storageClass
    if (
      storageClass !== undefined &&
      (typeof storageClass !== 'string' || !STORAGE_CLASSES.includes(storageClass))
    ) {
      fail(`${at2} selection.storageClass must be one of ${oneOf(STORAGE_CLASSES)}.`)
    }
    if (countType === 'sinceImageTransitioned' && storageClass !== 'archive') {
      fail(`${at2} has countType "sinceImageTransitioned", so it needs "storageClass": "archive".`)
    }
    if (countType !== 'sinceImageTransitioned' && storageClass === 'archive') {
      fail(
        `${at2} selects "storageClass": "archive", which only countType "sinceImageTransitioned" takes.`
      )
    }
    const action = rule.action
    if (
      !isObject(action) ||
      typeof action.type !== 'string' ||
      !ACTION_TYPES.includes(action.type)
    ) {
      return fail(`${at2} needs "action": {"type": "expire"} (or "transition").`)
    }
    if (action.type === 'transition' && action.targetStorageClass !== 'archive') {
      fail(`${at2} has action "transition", so it needs "targetStorageClass": "archive".`)
    }
    if (action.type === 'expire' && action.targetStorageClass !== undefined) {
      fail(`${at2} has action "expire", which takes no "targetStorageClass": remove it.`)
    }
  })
  if (anyPriority !== undefined && anyPriority !== highest) {
    fail(
      `has a rule with tagStatus "any" at rulePriority ${anyPriority}, but ECR evaluates it last: give it the highest rulePriority (above ${highest}).`
    )
  }
  return text
}

/**
 * Reads the lifecycle policy file (I/O, synchronous so that it fails with the other inputs,
 * before anything runs) and validates it. The path is relative to the workspace and must stay
 * inside it.
 */
export function readLifecyclePolicyFile(
  value: string,
  workspace: string
): LifecyclePolicy | undefined {
  const display = value.trim()
  if (display === '') return undefined
  const file = path.resolve(workspace, display)
  let real = file
  try {
    real = fs.realpathSync(file)
  } catch {
    // missing: reported below
  }
  const root = fs.existsSync(workspace) ? fs.realpathSync(workspace) : path.resolve(workspace)
  if (!isInside(path.resolve(workspace), file) || !isInside(root, real)) {
    throw new UserError(
      `Input "${Input.LifecyclePolicy}" (${display}) is outside the workspace: put the policy file in the repository and give its path relative to it.`
    )
  }
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UserError(
      code === 'ENOENT'
        ? `Input "${Input.LifecyclePolicy}" names a file that does not exist (${display}): check the path, relative to the workspace.`
        : `Input "${Input.LifecyclePolicy}" (${display}) cannot be read (${code ?? errorMessage(error)}): check the path, relative to the workspace.`
    )
  }
  return { display, text: parseLifecyclePolicy(text, display) }
}
