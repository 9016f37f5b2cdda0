import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

// The README's promises that a newcomer copies: the quick start must work as written, its IAM
// policy must be exactly what the README's own IAM table says the workflow needs, and the
// tables must name every input and output of action.yml.

const README = fs.readFileSync('README.md', 'utf8')
const ACTION = parse(fs.readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, unknown>
}
const OUR_ACTION = 'your-org/helm-ecr-publish@'

// Names and pages other work adds (OpenPGP signing; the topic pages of dependencies, signing,
// attestations and security). The README documents them already; until they land they may be
// missing, and once they exist they are checked like every other name.
const PENDING_NAMES = new Set(['signing-key', 'signing-passphrase', 'signing-key-fingerprint'])
const PENDING_DOCS = new Set([
  'docs/dependencies.md',
  'docs/signing.md',
  'docs/attestations.md',
  'docs/security.md'
])

interface Step {
  uses?: string
  with?: Record<string, unknown>
  env?: Record<string, unknown>
}

/** The text under `## title`, up to the next `## ` heading. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`)
  if (start < 0) throw new Error(`README has no "## ${title}" section`)
  const end = README.indexOf('\n## ', start + 1)
  return README.slice(start, end < 0 ? undefined : end)
}

function codeBlocks(text: string, lang: string): string[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)]
    .filter(m => m[1] === lang)
    .map(m => m[2])
}

/** The body rows of the first Markdown table in `text`, as cells. */
function tableRows(text: string): string[][] {
  const lines = text.split('\n').filter(line => line.startsWith('|'))
  return lines.slice(2).map(line =>
    line
      .slice(1, -1)
      .split('|')
      .map(c => c.trim())
  )
}

const backticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map(m => m[1])

/** Every step of a YAML block, whether it is a workflow, a job's keys, or a list of steps. */
function stepsOf(doc: unknown): Step[] {
  if (Array.isArray(doc)) return doc as Step[]
  const d = doc as { steps?: Step[]; jobs?: Record<string, { steps?: Step[] }> } | null
  if (!d) return []
  return [...(d.steps ?? []), ...Object.values(d.jobs ?? {}).flatMap(job => job.steps ?? [])]
}

const allYaml = codeBlocks(README, 'yaml')
const ourSteps = (doc: unknown): Step[] =>
  stepsOf(doc).filter(step => step.uses?.startsWith(OUR_ACTION))

const quickStartYaml = codeBlocks(section('Quick start'), 'yaml')
const workflow = parse(quickStartYaml[0] ?? '') as {
  on: { push?: { tags?: string[] } }
  permissions?: Record<string, string>
  jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }>
}
const steps = stepsOf(workflow)
const ours = ourSteps(workflow)[0]
const credentials = steps.find(s => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))

/** The workflow's value for an input: what it sets, else action.yml's default. */
const effective = (name: string): string =>
  String(ours?.with?.[name] ?? ACTION.inputs[name]?.default ?? '')

interface IamRow {
  condition: string
  inputs: string[]
  actions: string[]
}
const iamRows: IamRow[] = tableRows(section('IAM policy')).map(([condition, needs]) => ({
  condition,
  inputs: backticked(condition),
  actions: backticked(needs).filter(a => /^[a-z0-9-]+:[A-Za-z]+$/.test(a))
}))

/** Whether a row of the IAM table applies: "always", `input: value`, or `input` (any value). */
function applies(row: IamRow): boolean {
  if (row.condition === 'always') return true
  return row.inputs.some(spec => {
    const [name, value] = spec.split(/:\s*/)
    return value === undefined
      ? !['', 'false'].includes(effective(name))
      : effective(name) === value
  })
}

const jsonBlocks = codeBlocks(section('Quick start'), 'json').map(
  text =>
    JSON.parse(text) as {
      Statement: {
        Action: string | string[]
        Resource?: string
        Principal?: { Federated?: string }
        Condition?: Record<string, Record<string, string>>
      }[]
    }
)
const policy = jsonBlocks.find(p => !p.Statement.some(s => s.Principal))
const trust = jsonBlocks.find(p => p.Statement.some(s => s.Principal))
const account = /^arn:aws:iam::(\d{12}):role\//.exec(String(credentials?.with?.['role-to-assume']))

describe('the quick start', () => {
  it('is one workflow that parses, triggered by a tag push, with an OIDC token', () => {
    expect(quickStartYaml).toHaveLength(1)
    expect(workflow.on.push?.tags?.length).toBeGreaterThan(0)
    expect(workflow.permissions).toEqual({})
    const [job] = Object.values(workflow.jobs)
    expect(job.permissions).toMatchObject({ 'id-token': 'write', contents: 'read' })
  })

  it('checks out without keeping credentials, then assumes a role, then runs the action', () => {
    const uses = steps.map(s => s.uses?.replace(/@.*/, ''))
    expect(uses).toEqual([
      'actions/checkout',
      'aws-actions/configure-aws-credentials',
      OUR_ACTION.slice(0, -1)
    ])
    expect(steps[0].with?.['persist-credentials']).toBe(false)
    expect(account).not.toBeNull()
    expect(credentials?.with?.['aws-region']).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/)
  })

  it('uses only inputs that action.yml declares', () => {
    expect(Object.keys(ours?.with ?? {}).filter(name => !(name in ACTION.inputs))).toEqual([])
  })

  it("has an IAM policy with exactly the actions the README's IAM table says it needs", () => {
    const needed = new Set(iamRows.filter(applies).flatMap(row => row.actions))
    const granted = new Set(policy?.Statement.flatMap(s => s.Action) ?? [])
    expect([...granted].sort()).toEqual([...needed].sort())
    // the publish workflow needs at least these (a guard against a table that lost a row)
    for (const action of ['ecr:CreateRepository', 'ecr:DescribeImages', 'ecr:PutImage']) {
      expect(granted).toContain(action)
    }
  })

  it('grants the repository actions on the namespace in the workflow’s account and region', () => {
    const [, repository] = policy?.Statement ?? []
    expect(repository.Resource).toBe(
      `arn:aws:ecr:${String(credentials?.with?.['aws-region'])}:${account?.[1]}:repository/${effective('namespace')}/*`
    )
    expect(policy?.Statement[0]).toEqual({
      Effect: 'Allow',
      Action: 'ecr:GetAuthorizationToken',
      Resource: '*'
    })
  })

  it("has a trust policy for GitHub's OIDC provider that admits the workflow's tag pushes", () => {
    const [statement] = trust?.Statement ?? []
    expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity')
    expect(statement.Principal?.Federated).toBe(
      `arn:aws:iam::${account?.[1]}:oidc-provider/token.actions.githubusercontent.com`
    )
    const conditions = Object.assign({}, ...Object.values(statement.Condition ?? {})) as Record<
      string,
      string
    >
    expect(conditions['token.actions.githubusercontent.com:aud']).toBe('sts.amazonaws.com')
    const tag = workflow.on.push?.tags?.[0]
    expect(conditions['token.actions.githubusercontent.com:sub']).toMatch(
      new RegExp(`^repo:[\\w.-]+/[\\w.-]+:ref:refs/tags/${tag?.replace('*', '\\*')}$`)
    )
    // and says how GovCloud spells it
    expect(section('Quick start')).toContain(
      'arn:aws-us-gov:iam::123456789012:oidc-provider/token.actions.githubusercontent.com'
    )
  })
})

describe('the IAM table', () => {
  it('names only inputs that action.yml declares', () => {
    const names = iamRows.flatMap(row => row.inputs.map(spec => spec.split(':')[0]))
    expect(names.length).toBeGreaterThan(5)
    expect(names.filter(name => !(name in ACTION.inputs))).toEqual([])
  })

  it('names every ECR API call the action makes', () => {
    const dir = 'src/registry'
    const source = fs
      .readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter(f => f.endsWith('.ts'))
      .map(f => fs.readFileSync(path.join(dir, f), 'utf8'))
      .join('\n')
    const commands = new Set([...source.matchAll(/\bsdk\.(\w+)Command\b/g)].map(m => m[1]))
    expect(commands.size).toBeGreaterThan(3)
    const table = new Set(iamRows.flatMap(row => row.actions))
    const publicOnly = section('Recipes')
    for (const command of commands) {
      expect(
        table.has(`ecr:${command}`) || publicOnly.includes(command),
        `ecr:${command} is in the IAM table`
      ).toBe(true)
    }
  })
})

describe('every snippet', () => {
  it.each(allYaml.map((text, i) => [i, text]))('YAML block %i parses', (_, text) => {
    expect(() => parse(text)).not.toThrow()
  })

  it('uses only inputs that action.yml declares', () => {
    const used = allYaml.flatMap(text =>
      ourSteps(parse(text)).flatMap(s => Object.keys(s.with ?? {}))
    )
    expect(used.length).toBeGreaterThan(20)
    expect(used.filter(name => !(name in ACTION.inputs) && !PENDING_NAMES.has(name))).toEqual([])
  })

  it('checks out without keeping credentials and pins other actions by commit SHA', () => {
    const all = allYaml.flatMap(text => stepsOf(parse(text)))
    for (const step of all.filter(s => s.uses?.startsWith('actions/checkout@'))) {
      expect(step.with?.['persist-credentials']).toBe(false)
    }
    const lines = README.split('\n').filter(line => /^\s*(- )?uses:/.test(line))
    for (const line of lines.filter(l => !l.includes(OUR_ACTION))) {
      expect(line).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
    }
  })
})

describe('the tables', () => {
  const names = (title: string): Set<string> =>
    new Set(tableRows(section(title)).flatMap(([first]) => backticked(first)))

  it.each([
    ['Inputs', ACTION.inputs],
    ['Outputs', ACTION.outputs]
  ] as const)('%s: list every one of action.yml, and no other', (title, declared) => {
    const documented = names(title)
    expect(Object.keys(declared).filter(name => !documented.has(name))).toEqual([])
    expect([...documented].filter(name => !(name in declared) && !PENDING_NAMES.has(name))).toEqual(
      []
    )
  })
})

describe('the README', () => {
  it('is read in five minutes: at most 400 lines', () => {
    expect(README.split('\n').length).toBeLessThanOrEqual(401)
  })

  it('names no issue numbers (nor do the docs)', () => {
    const docs = fs.readdirSync('docs').filter(f => f.endsWith('.md'))
    for (const [file, text] of [
      ['README.md', README],
      ...docs.map(f => [`docs/${f}`, fs.readFileSync(path.join('docs', f), 'utf8')])
    ]) {
      expect(text, file).not.toMatch(/\bissues?\s+#?\d+/i)
      expect(text, file).not.toMatch(/(^|[\s(])#\d+\b/m)
    }
  })

  it('links only to headings and files that exist', () => {
    const slug = (heading: string): string =>
      heading
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-')
    const anchors = new Set(
      [...README.matchAll(/^#{2,4} (.+)$/gm)].map(m => slug(m[1].replace(/`/g, '')))
    )
    const links = [...README.matchAll(/\]\(([^)\s]+)\)/g)].map(m => m[1])
    for (const link of links.filter(l => l.startsWith('#'))) {
      expect(anchors, link).toContain(link.slice(1))
    }
    for (const link of links.filter(l => !/^(#|https?:)/.test(l))) {
      const file = link.replace(/#.*/, '')
      if (PENDING_DOCS.has(file)) continue
      expect(fs.existsSync(file), file).toBe(true)
    }
  })
})
