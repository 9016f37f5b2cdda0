import * as fs from 'node:fs'
import * as path from 'node:path'
import * as v from 'valibot'
import { Input } from '../constants.js'
import { UserError, errorMessage } from '../errors.js'
import { isInside } from '../runtime/paths.js'

/* The lifecycle-policy input: the file (inside the workspace) and ECR's rules for its content,
   checked before any AWS write. The document's shape is a valibot schema whose messages are the
   one-line refusals; the rules between rules are one function after it. */

export interface LifecyclePolicy {
  /** As the user wrote it in the workspace, for messages and the by-hand fix. */
  display: string
  /** The file's text, sent to PutLifecyclePolicy as given. */
  text: string
}

/** PutLifecyclePolicy's lifecyclePolicyText length limits. */
export const LIFECYCLE_TEXT_LIMITS = { min: 100, max: 30720 } as const

const TAG_STATUS = ['tagged', 'untagged', 'any'] as const
const COUNT_TYPES = [
  'imageCountMoreThan',
  'sinceImagePushed',
  'sinceImagePulled',
  'sinceImageTransitioned'
] as const
const ACTION_TYPES = ['expire', 'transition'] as const
const STORAGE_CLASSES = ['standard', 'archive'] as const
const MAX_WILDCARDS = 4

function oneOf(values: readonly string[]): string {
  return values.map(v => `"${v}"`).join(', ')
}

const wholeNumber = (message: string) =>
  v.pipe(v.number(message), v.integer(message), v.minValue(1, message))

const nonEmptyStrings = (name: string) => {
  const message = `"${name}" must be a list of non-empty strings.`
  return v.pipe(
    v.array(v.pipe(v.string(message), v.minLength(1, message)), message),
    v.minLength(1, message)
  )
}

type AnySchema = v.GenericSchema & { message?: unknown; pipe?: readonly { message?: unknown }[] }

/**
 * An object schema whose issue for a missing key is that key's own message (valibot would give
 * the object's), so a rule without "selection" says so, as one with a bad one does.
 */
function shape<E extends Record<string, AnySchema>>(
  entries: E,
  notObject: string,
  missing: Partial<Record<keyof E, string>> = {}
) {
  return v.object(entries, issue => {
    const key = issue.path?.at(-1)?.key as keyof E
    if (issue.kind !== 'schema' || issue.expected !== `"${String(key)}"`) return notObject
    const message = missing[key] ?? entries[key]?.message ?? entries[key]?.pipe?.[0]?.message
    return typeof message === 'string' ? message : notObject
  })
}

const tooWild = (pattern: string): boolean => (pattern.match(/\*/g) ?? []).length > MAX_WILDCARDS

/** One rule's selection: the shape, then the rules between its fields. */
const SELECTION_NEEDED = 'needs a "selection" object.'

const Selection = v.pipe(
  shape(
    {
      tagStatus: v.picklist(TAG_STATUS, `selection.tagStatus must be one of ${oneOf(TAG_STATUS)}.`),
      tagPatternList: v.optional(
        v.pipe(
          nonEmptyStrings('tagPatternList'),
          v.check(
            list => !list.some(tooWild),
            issue =>
              `tag pattern "${issue.input.find(tooWild)}" has more than ${MAX_WILDCARDS} wildcards (*), ECR's limit.`
          )
        )
      ),
      tagPrefixList: v.optional(nonEmptyStrings('tagPrefixList')),
      countType: v.picklist(
        COUNT_TYPES,
        `selection.countType must be one of ${oneOf(COUNT_TYPES)}.`
      ),
      countNumber: wholeNumber('selection.countNumber must be a whole number of 1 or more.'),
      countUnit: v.optional(v.unknown()),
      storageClass: v.optional(
        v.picklist(
          STORAGE_CLASSES,
          `selection.storageClass must be one of ${oneOf(STORAGE_CLASSES)}.`
        )
      )
    },
    SELECTION_NEEDED
  ),
  v.check(
    s =>
      s.tagStatus !== 'tagged' || s.tagPatternList !== undefined || s.tagPrefixList !== undefined,
    'has tagStatus "tagged", so it needs "tagPatternList" or "tagPrefixList".'
  ),
  v.check(
    s => s.tagPatternList === undefined || s.tagPrefixList === undefined,
    'has both "tagPatternList" and "tagPrefixList": use one of them.'
  ),
  v.check(
    s =>
      s.tagStatus === 'tagged' || (s.tagPatternList === undefined && s.tagPrefixList === undefined),
    issue =>
      `has tagStatus "${issue.input.tagStatus}", which takes no "tagPatternList" or "tagPrefixList": remove them or use "tagged".`
  ),
  v.check(
    s => s.countType !== 'imageCountMoreThan' || s.countUnit === undefined,
    'has countType "imageCountMoreThan", which takes no "countUnit": remove it.'
  ),
  v.check(
    s => s.countType === 'imageCountMoreThan' || s.countUnit === 'days',
    issue => `has countType "${issue.input.countType}", so it needs "countUnit": "days".`
  ),
  v.check(
    s => s.countType !== 'sinceImageTransitioned' || s.storageClass === 'archive',
    'has countType "sinceImageTransitioned", so it needs "storageClass": "archive".'
  ),
  v.check(
    s => s.countType === 'sinceImageTransitioned' || s.storageClass !== 'archive',
    'selects "storageClass": "archive", which only countType "sinceImageTransitioned" takes.'
  )
)

const ACTION_NEEDED = 'needs "action": {"type": "expire"} (or "transition").'

const Action = v.pipe(
  shape(
    { type: v.picklist(ACTION_TYPES, ACTION_NEEDED), targetStorageClass: v.optional(v.unknown()) },
    ACTION_NEEDED
  ),
  v.check(
    a => a.type !== 'transition' || a.targetStorageClass === 'archive',
    'has action "transition", so it needs "targetStorageClass": "archive".'
  ),
  v.check(
    a => a.type !== 'expire' || a.targetStorageClass === undefined,
    'has action "expire", which takes no "targetStorageClass": remove it.'
  )
)

const Rule = shape(
  {
    rulePriority: wholeNumber('needs "rulePriority", a whole number of 1 or more.'),
    description: v.optional(v.string('"description" must be a string.')),
    selection: Selection,
    action: Action
  },
  'is not an object.',
  { selection: SELECTION_NEEDED, action: ACTION_NEEDED }
)

const RULES_NEEDED =
  'needs a "rules" array with at least one rule: see "Lifecycle policy properties" in the ECR user guide.'

/** ECR's lifecycle policy document (lifecycle policy properties in the ECR user guide). */
const LifecyclePolicyDocument = shape(
  { rules: v.pipe(v.array(Rule, RULES_NEEDED), v.minLength(1, RULES_NEEDED)) },
  RULES_NEEDED
)

type LifecycleRule = v.InferOutput<typeof Rule>

/** The rules between rules: priorities unique, at most one "any" rule, and that one evaluated last. */
function ruleOrderProblem(rules: LifecycleRule[]): string | undefined {
  const seen = new Set<number>()
  const highest = Math.max(...rules.map(r => r.rulePriority))
  let any: number | undefined
  for (const [i, { rulePriority: p, selection }] of rules.entries()) {
    if (seen.has(p))
      return `rule ${i + 1} repeats rulePriority ${p}: give every rule its own priority.`
    seen.add(p)
    if (selection.tagStatus !== 'any') continue
    if (any !== undefined)
      return `rule ${i + 1} (rulePriority ${p}) is a second rule with tagStatus "any": keep one.`
    any = p
  }
  if (any !== undefined && any !== highest) {
    return `has a rule with tagStatus "any" at rulePriority ${any}, but ECR evaluates it last: give it the highest rulePriority (above ${highest}).`
  }
  return undefined
}

/** Where a schema issue is: "rule 2 (rulePriority 5)", "rule 2" while its priority is unusable, or nothing. */
function issuePlace(issue: v.BaseIssue<unknown>, doc: unknown): string {
  const index = issue.path?.[1]?.key
  if (typeof index !== 'number') return ''
  const rule = (doc as { rules: unknown[] }).rules[index]
  const priority = (rule as { rulePriority?: unknown } | null)?.rulePriority
  const usable = typeof priority === 'number' && Number.isInteger(priority) && priority >= 1
  return usable && issue.path?.[2]?.key !== 'rulePriority'
    ? `rule ${index + 1} (rulePriority ${priority}) `
    : `rule ${index + 1} `
}

/**
 * Checks a lifecycle policy against ECR's rules: the document's shape with valibot, then the
 * rules between rules. `where` names the file. Returns the text unchanged: it is sent as given.
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
  const parsed = v.safeParse(LifecyclePolicyDocument, doc, { abortEarly: true })
  if (!parsed.success) {
    const issue = parsed.issues[0]
    return fail(`${issuePlace(issue, doc)}${issue.message}`)
  }
  const problem = ruleOrderProblem(parsed.output.rules)
  if (problem) fail(problem)
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
