import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { describe, expect, it, test } from 'vitest'
import {
  ReleaseError,
  dryRun,
  majorTagToMove,
  nextVersion,
  parseChangelog,
  parseReleaseTag,
  prepareRelease,
  releaseNotes
} from '../scripts/release-notes.mjs'

const SCRIPT = path.resolve('scripts/release-notes.mjs')
const BASE = 'https://github.com/your-org/helm-ecr-publish'

const changelog = `# Changelog

Intro text.

## [Unreleased]

### Fixed

- A fix.

## [1.1.0] - 2026-12-01

### Added

- Feature two.

## [1.0.0] - 2026-11-30

### Added

- Feature one.

[Unreleased]: ${BASE}/compare/v1.1.0...HEAD
[1.1.0]: ${BASE}/compare/v1.0.0...v1.1.0
[1.0.0]: ${BASE}/releases/tag/v1.0.0
`

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ReleaseError)
    expect((error as Error).message).not.toContain('\n')
    return error as Error
  }
  throw new Error('expected a ReleaseError')
}

describe('parseReleaseTag', () => {
  test.each([
    ['v1.2.3', '1.2.3', 'v1'],
    ['v0.1.0', '0.1.0', 'v0'],
    ['v12.0.10', '12.0.10', 'v12']
  ])('%s -> %s, major %s', (tag, version, major) => {
    expect(parseReleaseTag(tag)).toEqual({ version, major })
  })

  test.each(['1.2.3', 'v1.2', 'v1', 'v1.2.3-rc.1', 'v1.2.3+build', 'v01.2.3', 'release-1.2.3', ''])(
    'refuses %j',
    tag => {
      expect(thrown(() => parseReleaseTag(tag)).message).toBe(
        `Tag "${tag}" is not a release tag: push a tag of the form vMAJOR.MINOR.PATCH, e.g. v1.2.3.`
      )
    }
  )
})

describe('parseChangelog', () => {
  it('splits sections, newest first, and link references', () => {
    const parsed = parseChangelog(changelog)
    expect(parsed.unreleased.name).toBe('Unreleased')
    expect(parsed.releases.map(r => [r.name, r.date])).toEqual([
      ['1.1.0', '2026-12-01'],
      ['1.0.0', '2026-11-30']
    ])
    expect(parsed.links.map(l => l.label)).toEqual(['Unreleased', '1.1.0', '1.0.0'])
  })

  test.each([
    [
      'no Unreleased section',
      '# Changelog\n\n## [1.0.0] - 2026-11-30\n\n- x\n',
      'CHANGELOG.md must start its sections with "## [Unreleased]": the release process turns it into the next version.'
    ],
    [
      'a dated Unreleased',
      '## [Unreleased] - 2026-11-30\n\n- x\n',
      'CHANGELOG.md: "## [Unreleased]" takes no date.'
    ],
    [
      'a heading that is not a version',
      '## [Unreleased]\n\n## Version 1\n',
      'CHANGELOG.md: "## Version 1" is not a version heading: use "## [Unreleased]" or "## [X.Y.Z] - YYYY-MM-DD".'
    ],
    [
      'a version without a date',
      '## [Unreleased]\n\n## [1.0.0]\n\n- x\n',
      'CHANGELOG.md: "## [1.0.0]" must read "## [X.Y.Z] - YYYY-MM-DD" (or be the one "## [Unreleased]").'
    ],
    [
      'versions out of order',
      '## [Unreleased]\n\n## [1.0.0] - 2026-11-30\n\n## [1.1.0] - 2026-12-01\n',
      'CHANGELOG.md: 1.0.0 is listed above 1.1.0: keep versions newest first, each once.'
    ],
    [
      'a version twice',
      '## [Unreleased]\n\n## [1.0.0] - 2026-11-30\n\n## [1.0.0] - 2026-11-30\n',
      'CHANGELOG.md: 1.0.0 is listed above 1.0.0: keep versions newest first, each once.'
    ],
    [
      'versions compared as numbers, not text',
      '## [Unreleased]\n\n## [1.9.0] - 2026-11-30\n\n## [1.10.0] - 2026-12-01\n',
      'CHANGELOG.md: 1.9.0 is listed above 1.10.0: keep versions newest first, each once.'
    ]
  ])('refuses %s', (_what, text, message) => {
    expect(thrown(() => parseChangelog(text)).message).toBe(message)
  })
})

describe('releaseNotes', () => {
  test.each([
    ['v1.1.0', '### Added\n\n- Feature two.'],
    ['1.0.0', '### Added\n\n- Feature one.'],
    ['Unreleased', '### Fixed\n\n- A fix.']
  ])('%s', (version, notes) => {
    expect(releaseNotes(changelog, version)).toBe(notes)
  })

  it('reads CRLF files', () => {
    expect(releaseNotes(changelog.replace(/\n/g, '\r\n'), 'v1.0.0')).toBe(
      '### Added\n\n- Feature one.'
    )
  })

  it('names the fix for a version without a section', () => {
    expect(thrown(() => releaseNotes(changelog, 'v1.2.0')).message).toBe(
      'CHANGELOG.md has no "## [1.2.0]" section: run `node scripts/release-notes.mjs prepare 1.2.0` and commit it before tagging.'
    )
  })

  it('refuses an empty section', () => {
    const text = '## [Unreleased]\n\n## [1.0.0] - 2026-11-30\n\n\n'
    expect(thrown(() => releaseNotes(text, 'v1.0.0')).message).toBe(
      'CHANGELOG.md: "## [1.0.0]" is empty: say what changed before releasing.'
    )
  })
})

describe('prepareRelease', () => {
  it('turns Unreleased into the version and keeps the compare links in step', () => {
    const prepared = prepareRelease(changelog, '1.1.1', '2026-12-24')
    expect(prepared).toContain(
      '## [Unreleased]\n\n## [1.1.1] - 2026-12-24\n\n### Fixed\n\n- A fix.\n\n## [1.1.0] - 2026-12-01'
    )
    expect(prepared).toContain(
      `[Unreleased]: ${BASE}/compare/v1.1.1...HEAD\n[1.1.1]: ${BASE}/compare/v1.1.0...v1.1.1\n[1.1.0]:`
    )
    expect(releaseNotes(prepared, 'v1.1.1')).toBe('### Fixed\n\n- A fix.')
    expect(parseChangelog(prepared).unreleased.body.join('').trim()).toBe('')
  })

  it('links the first release to its tag', () => {
    const first = `## [Unreleased]\n\n- First.\n\n[Unreleased]: ${BASE}/commits/main\n`
    expect(prepareRelease(first, '1.0.0', '2026-11-30')).toBe(
      `## [Unreleased]\n\n## [1.0.0] - 2026-11-30\n\n- First.\n\n[Unreleased]: ${BASE}/compare/v1.0.0...HEAD\n[1.0.0]: ${BASE}/releases/tag/v1.0.0\n`
    )
  })

  it('leaves a file without links without links', () => {
    expect(prepareRelease('## [Unreleased]\n\n- First.\n', '1.0.0', '2026-11-30')).toBe(
      '## [Unreleased]\n\n## [1.0.0] - 2026-11-30\n\n- First.\n'
    )
  })

  test.each([
    [
      '1.1.0',
      '2026-12-24',
      '1.1.0 is not newer than 1.1.0, the latest version in CHANGELOG.md: choose a higher version.'
    ],
    [
      '1.0.5',
      '2026-12-24',
      '1.0.5 is not newer than 1.1.0, the latest version in CHANGELOG.md: choose a higher version.'
    ],
    ['1.2', '2026-12-24', '"1.2" is not a release version: give MAJOR.MINOR.PATCH, e.g. 1.2.3.'],
    ['1.2.0', '24/12/2026', '"24/12/2026" is not a date: give YYYY-MM-DD.']
  ])('refuses %s on %s', (version, date, message) => {
    expect(thrown(() => prepareRelease(changelog, version, date)).message).toBe(message)
  })

  it('refuses to release an empty Unreleased section', () => {
    const released = prepareRelease(changelog, '1.2.0', '2026-12-24')
    expect(thrown(() => prepareRelease(released, '1.2.1', '2026-12-25')).message).toBe(
      'CHANGELOG.md: "## [Unreleased]" is empty: say what changed before releasing.'
    )
  })
})

describe('majorTagToMove', () => {
  test.each([
    ['v1.2.0', ['v1', 'v1.0.0', 'v1.1.0', 'v0.9.0'], 'v1'],
    ['v1.2.0', [], 'v1'],
    ['v1.2.0', ['refs/tags/v1.1.0', 'refs/tags/v1.2.0'], 'v1'],
    ['v1.1.5', ['v1.1.4', 'v1.2.0'], undefined],
    ['v2.0.0', ['v1.9.9', 'v1'], 'v2'],
    ['v1.10.0', ['v1.9.0'], 'v1'],
    ['v1.2.0', ['v1.3.0-rc.1', 'v10.0.0'], 'v1']
  ])('%s with %j -> %s', (tag, existing, major) => {
    expect(majorTagToMove(tag, existing)).toBe(major)
  })
})

describe('nextVersion and dryRun', () => {
  it('pretends to release the next patch', () => {
    expect(nextVersion(changelog)).toBe('1.1.1')
    expect(dryRun(changelog, '2026-12-24')).toEqual({
      version: '1.1.1',
      tag: 'v1.1.1',
      major: 'v1',
      notes: '### Fixed\n\n- A fix.',
      pending: true
    })
  })

  it('checks the newest version when Unreleased is empty (after prepare, or a dependency bump)', () => {
    const prepared = prepareRelease(changelog, '1.2.0', '2026-12-24')
    expect(dryRun(prepared, '2026-12-25')).toEqual({
      version: '1.2.0',
      tag: 'v1.2.0',
      major: 'v1',
      notes: '### Fixed\n\n- A fix.',
      pending: false
    })
  })

  it('fails when there is nothing to release at all', () => {
    expect(thrown(() => dryRun('## [Unreleased]\n', '2026-12-24')).message).toBe(
      'CHANGELOG.md has nothing to release: add entries under "## [Unreleased]".'
    )
  })

  it('pretends the first release is 1.0.0', () => {
    expect(nextVersion('## [Unreleased]\n\n- First.\n')).toBe('1.0.0')
  })

  it("passes on the repository's own CHANGELOG.md", async () => {
    const text = await fs.readFile('CHANGELOG.md', 'utf8')
    const result = dryRun(text, '2026-12-24')
    expect(result.tag).toMatch(/^v\d+\.\d+\.\d+$/)
    expect(result.notes).toContain('### Added')
  })
})

describe('command line', () => {
  async function withChangelog(text: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'release-notes-'))
    const file = path.join(dir, 'CHANGELOG.md')
    await fs.writeFile(file, text)
    return file
  }

  function run(args: string[], file: string, input = '') {
    return spawnSync(process.execPath, [SCRIPT, ...args], {
      env: { ...process.env, CHANGELOG_FILE: file },
      input,
      encoding: 'utf8'
    })
  }

  it('prints the version of a tag, the notes, and the major tag to move', async () => {
    const file = await withChangelog(changelog)
    expect(run(['tag', 'v1.1.0'], file).stdout).toBe('1.1.0\n')
    expect(run(['notes', 'v1.1.0'], file).stdout).toBe('### Added\n\n- Feature two.\n')
    expect(run(['move-major', 'v1.1.0'], file, 'v1.0.0\nv1\n').stdout).toBe('v1\n')
    expect(run(['move-major', 'v1.0.1'], file, 'v1.0.0\nv1.1.0\n').stdout).toBe('')
  })

  it('prepares the changelog in place, and a dry run writes nothing', async () => {
    const file = await withChangelog(changelog)
    const dry = run(['dry-run'], file)
    expect(dry.status).toBe(0)
    expect(dry.stdout).toMatch(
      /^Dry run: releasing ## \[Unreleased\] as v1\.1\.1 \(the version is an example\) would publish these notes and move v1:/
    )
    expect(await fs.readFile(file, 'utf8')).toBe(changelog)
    expect(run(['prepare', '1.2.0'], file).status).toBe(0)
    expect(await fs.readFile(file, 'utf8')).toMatch(/^## \[1\.2\.0\] - \d{4}-\d{2}-\d{2}$/m)
  })

  test.each([
    [
      ['tag', 'v1.2'],
      'Tag "v1.2" is not a release tag: push a tag of the form vMAJOR.MINOR.PATCH, e.g. v1.2.3.\n'
    ],
    [
      ['notes', 'v9.9.9'],
      'CHANGELOG.md has no "## [9.9.9]" section: run `node scripts/release-notes.mjs prepare 9.9.9` and commit it before tagging.\n'
    ],
    [
      ['notes'],
      'notes needs a tag or version: usage: release-notes.mjs tag|notes|prepare|move-major|dry-run [ARG]\n'
    ],
    [['publish'], 'usage: release-notes.mjs tag|notes|prepare|move-major|dry-run [ARG]\n']
  ])('%j fails with one line', async (args, stderr) => {
    const file = await withChangelog(changelog)
    const result = run(args, file)
    expect(result.status).toBe(1)
    expect(result.stderr).toBe(stderr)
    expect(result.stdout).toBe('')
  })

  it('runs with the plain node the release job has (no dependencies)', () => {
    const imports = execFileSync('grep', ['-E', '^import ', SCRIPT], { encoding: 'utf8' })
    expect(
      imports
        .trim()
        .split('\n')
        .every(line => / from 'node:/.test(line))
    ).toBe(true)
  })
})
