import * as fs from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

// The rules zizmor enforces in CI (.github/workflows/zizmor.yml), checked here too so a
// regression fails `npm test` on any machine, without zizmor or network access.

interface Step {
  uses?: string
  run?: string
  with?: Record<string, unknown>
}

interface Job {
  permissions?: Record<string, string>
  steps?: Step[]
  container?: unknown
  services?: unknown
}

interface Workflow {
  on: Record<string, unknown>
  permissions?: Record<string, string>
  jobs: Record<string, Job>
}

const DIR = '.github/workflows'
const files = fs.readdirSync(DIR).filter(f => f.endsWith('.yml'))
const text = (file: string): string => fs.readFileSync(path.join(DIR, file), 'utf8')
const workflow = (file: string): Workflow => parse(text(file)) as Workflow
const steps = (file: string): Step[] =>
  Object.values(workflow(file).jobs).flatMap(job => job.steps ?? [])

describe.each(files)('%s', file => {
  it('passes no ${{ }} expression into a shell (values reach run: through env:)', () => {
    const injected = steps(file).filter(step => step.run?.includes('${{'))
    expect(injected).toEqual([])
  })

  it('pins every action by commit SHA with a version comment', () => {
    const lines = text(file)
      .split('\n')
      .filter(line => /^\s*(- )?uses:/.test(line))
    for (const line of lines) {
      if (/uses:\s*\.\//.test(line)) continue
      expect(line).toMatch(/uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/)
    }
  })

  it('keeps no git credentials after checkout', () => {
    for (const step of steps(file).filter(s => s.uses?.startsWith('actions/checkout@'))) {
      expect(step.with?.['persist-credentials']).toBe(false)
    }
  })

  it('grants nothing by default and permissions per job', () => {
    const w = workflow(file)
    expect(w.permissions).toEqual({})
    for (const job of Object.values(w.jobs)) expect(job.permissions).toBeDefined()
  })

  it('uses no trigger that runs untrusted code with secrets', () => {
    const triggers = Object.keys(workflow(file).on)
    expect(triggers).not.toContain('pull_request_target')
    expect(triggers).not.toContain('workflow_run')
  })

  it('runs no Docker image (none could be pinned by a verified digest)', () => {
    for (const job of Object.values(workflow(file).jobs)) {
      expect(job.container).toBeUndefined()
      expect(job.services).toBeUndefined()
    }
    expect(steps(file).filter(s => s.uses?.startsWith('docker://'))).toEqual([])
    expect(steps(file).filter(s => /\bdocker (run|pull)\b/.test(s.run ?? ''))).toEqual([])
  })
})

describe('release.yml', () => {
  const w = workflow('release.yml')

  it('restores no dependency cache (cache poisoning)', () => {
    for (const step of steps('release.yml').filter(s => s.uses?.startsWith('actions/setup-'))) {
      expect(step.with?.cache).toBeUndefined()
      expect(step.with?.['package-manager-cache']).toBe(false)
    }
    expect(steps('release.yml').filter(s => s.uses?.startsWith('actions/cache'))).toEqual([])
  })

  it('gives write access only to the jobs that need it', () => {
    expect(w.jobs.verify.permissions).toEqual({ contents: 'read' })
    expect(w.jobs.attest.permissions).toEqual({
      contents: 'read',
      'id-token': 'write',
      attestations: 'write'
    })
    expect(w.jobs.release.permissions).toEqual({ contents: 'write' })
  })

  it('installs nothing in the job that can write', () => {
    const run = (w.jobs.release.steps ?? []).map(s => s.run ?? '').join('\n')
    expect(run).not.toMatch(/\bnpm (ci|install)\b/)
    expect(run).toContain('node scripts/release-notes.mjs notes "$TAG"')
  })
})

describe('ci.yml', () => {
  it('runs the action (uses: ./) on Linux x64 and arm64, macOS and Windows', () => {
    const job = workflow('ci.yml').jobs.integration as Job & {
      strategy: { matrix: { include: { os: string }[] } }
      'runs-on': string
    }
    expect(job.strategy.matrix.include.map(entry => entry.os).sort()).toEqual([
      'macos-latest',
      'ubuntu-24.04-arm',
      'ubuntu-latest',
      'windows-latest'
    ])
    expect(job['runs-on']).toBe('${{ matrix.os }}')
    const action = (job.steps ?? []).find(step => step.uses === './')
    expect(action?.with).toMatchObject({ 'plain-http': true, 'helm-version': '4' })
  })
})

describe('dependabot.yml', () => {
  const config = parse(fs.readFileSync('.github/dependabot.yml', 'utf8')) as {
    updates: { 'package-ecosystem': string; cooldown?: { 'default-days': number } }[]
  }

  it('updates npm and GitHub Actions weekly with a cooldown', () => {
    expect(config.updates.map(u => u['package-ecosystem']).sort()).toEqual([
      'github-actions',
      'npm'
    ])
    for (const update of config.updates) {
      expect(update.cooldown?.['default-days']).toBeGreaterThanOrEqual(7)
    }
  })
})
