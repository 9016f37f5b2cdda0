#!/usr/bin/env node
// The testable half of the release workflow: release tags, CHANGELOG.md sections (Keep a
// Changelog 1.1.0) and when the major tag moves. Dependency-free on purpose: the release job,
// which holds `contents: write`, runs it with the runner's own Node and no `npm ci`.
//
//   node scripts/release-notes.mjs tag v1.2.3          prints 1.2.3 (fails on anything else)
//   node scripts/release-notes.mjs notes v1.2.3        prints the notes of ## [1.2.3]
//   node scripts/release-notes.mjs prepare 1.2.3       turns ## [Unreleased] into ## [1.2.3] - today
//   node scripts/release-notes.mjs move-major v1.2.3   reads existing tag names on stdin; prints
//                                                      v1 when v1.2.3 is the newest v1.x.y, else nothing
//   node scripts/release-notes.mjs dry-run             what the next release would do, without tagging
//
// Errors are one line on stderr and exit code 1.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const UNRELEASED = 'Unreleased'
const CHANGELOG = 'CHANGELOG.md'

export class ReleaseError extends Error {}

const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/
const HEADING = /^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?\s*$/
const LINK = /^\[([^\]]+)\]:\s*(\S+)\s*$/

/** `v1.2.3` -> `{ version: '1.2.3', major: 'v1' }`. Pre-releases and build metadata are refused. */
export function parseReleaseTag(tag) {
  const version = /^v(.*)$/.exec(tag)?.[1]
  if (version === undefined || !VERSION.test(version)) {
    throw new ReleaseError(
      `Tag "${tag}" is not a release tag: push a tag of the form vMAJOR.MINOR.PATCH, e.g. v1.2.3.`
    )
  }
  return { version, major: `v${version.split('.')[0]}` }
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i]
  return 0
}

/**
 * Splits a changelog into its version sections and link references, and checks the shape the
 * release process relies on: `## [Unreleased]` first, then `## [X.Y.Z] - YYYY-MM-DD` sections,
 * newest first, each once.
 */
export function parseChangelog(text) {
  const lines = text.replace(/\r\n/g, '\n').split('\n')
  const sections = []
  const links = []
  const preamble = []
  let current
  for (const line of lines) {
    const heading = HEADING.exec(line)
    const link = LINK.exec(line)
    if (heading) {
      current = { name: heading[1], date: heading[2], body: [] }
      sections.push(current)
    } else if (link) {
      links.push({ label: link[1], url: link[2] })
    } else if (line.startsWith('## ')) {
      throw new ReleaseError(
        `${CHANGELOG}: "${line}" is not a version heading: use "## [${UNRELEASED}]" or "## [X.Y.Z] - YYYY-MM-DD".`
      )
    } else if (current) {
      current.body.push(line)
    } else {
      preamble.push(line)
    }
  }
  if (sections[0]?.name !== UNRELEASED) {
    throw new ReleaseError(
      `${CHANGELOG} must start its sections with "## [${UNRELEASED}]": the release process turns it into the next version.`
    )
  }
  if (sections[0].date) {
    throw new ReleaseError(`${CHANGELOG}: "## [${UNRELEASED}]" takes no date.`)
  }
  const releases = sections.slice(1)
  for (const [i, section] of releases.entries()) {
    if (!VERSION.test(section.name) || !section.date) {
      throw new ReleaseError(
        `${CHANGELOG}: "## [${section.name}]" must read "## [X.Y.Z] - YYYY-MM-DD" (or be the one "## [${UNRELEASED}]").`
      )
    }
    const older = releases[i + 1]
    if (older && VERSION.test(older.name) && compareVersions(section.name, older.name) <= 0) {
      throw new ReleaseError(
        `${CHANGELOG}: ${section.name} is listed above ${older.name}: keep versions newest first, each once.`
      )
    }
  }
  return {
    preamble: preamble.join('\n'),
    unreleased: sections[0],
    releases,
    links
  }
}

function sectionText(section) {
  return section.body.join('\n').trim()
}

/** The notes of one version (`1.2.3`, `v1.2.3` or `Unreleased`), without its heading. */
export function releaseNotes(text, versionOrTag) {
  const name = versionOrTag === UNRELEASED ? UNRELEASED : versionOrTag.replace(/^v/, '')
  const changelog = parseChangelog(text)
  const section = [changelog.unreleased, ...changelog.releases].find(s => s.name === name)
  if (!section) {
    throw new ReleaseError(
      `${CHANGELOG} has no "## [${name}]" section: run \`node scripts/release-notes.mjs prepare ${name}\` and commit it before tagging.`
    )
  }
  const notes = sectionText(section)
  if (!notes) {
    throw new ReleaseError(
      `${CHANGELOG}: "## [${name}]" is empty: say what changed before releasing.`
    )
  }
  return notes
}

/**
 * Turns `## [Unreleased]` into `## [version] - date`, opens a new empty `## [Unreleased]`, and
 * keeps the compare links at the bottom in step when the file has them.
 */
export function prepareRelease(text, version, date) {
  if (!VERSION.test(version)) {
    throw new ReleaseError(
      `"${version}" is not a release version: give MAJOR.MINOR.PATCH, e.g. 1.2.3.`
    )
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    throw new ReleaseError(`"${date}" is not a date: give YYYY-MM-DD.`)
  }
  const changelog = parseChangelog(text)
  const previous = changelog.releases[0]?.name
  if (previous && compareVersions(version, previous) <= 0) {
    throw new ReleaseError(
      `${version} is not newer than ${previous}, the latest version in ${CHANGELOG}: choose a higher version.`
    )
  }
  if (!sectionText(changelog.unreleased)) {
    throw new ReleaseError(
      `${CHANGELOG}: "## [${UNRELEASED}]" is empty: say what changed before releasing.`
    )
  }
  const heading = `## [${UNRELEASED}]`
  const lines = text.replace(/\r\n/g, '\n').split('\n')
  const at = lines.findIndex(line => HEADING.exec(line)?.[1] === UNRELEASED)
  lines.splice(at, 1, heading, '', `## [${version}] - ${date}`)

  const unreleasedLink = changelog.links.find(l => l.label.toLowerCase() === 'unreleased')
  const base = unreleasedLink && /^(https:\/\/[^/]+\/[^/]+\/[^/]+)\//.exec(unreleasedLink.url)?.[1]
  if (base) {
    const i = lines.findIndex(line => LINK.exec(line)?.[1].toLowerCase() === 'unreleased')
    const released = previous
      ? `${base}/compare/v${previous}...v${version}`
      : `${base}/releases/tag/v${version}`
    lines.splice(
      i,
      1,
      `[${LINK.exec(lines[i])[1]}]: ${base}/compare/v${version}...HEAD`,
      `[${version}]: ${released}`
    )
  }
  return lines.join('\n')
}

/**
 * The major tag to move to `tag`, or undefined when a newer release of that major exists
 * (a patch to an older minor must not pull `v1` back).
 */
export function majorTagToMove(tag, existingTags) {
  const { version, major } = parseReleaseTag(tag)
  const sameMajor = existingTags
    .map(t => t.trim().replace(/^refs\/tags\//, ''))
    .filter(t => t.startsWith(`${major}.`))
    .map(t => t.slice(1))
    .filter(v => VERSION.test(v))
  return sameMajor.some(v => compareVersions(v, version) > 0) ? undefined : major
}

/** The version a dry run pretends to release: the next patch, or 1.0.0 for the first release. */
export function nextVersion(text) {
  const latest = parseChangelog(text).releases[0]?.name
  if (!latest) return '1.0.0'
  const [major, minor, patch] = latest.split('.').map(Number)
  return `${major}.${minor}.${patch + 1}`
}

/**
 * Everything the release workflow will compute, on a copy: no file is written, nothing is tagged.
 * With entries under `## [Unreleased]`, the next patch release is simulated (prepare, then notes);
 * with none (right after `prepare`, or on a pull request that needs no entry, such as a
 * dependency update), the newest version section is checked, as tagging it now would.
 */
export function dryRun(text, date) {
  const changelog = parseChangelog(text)
  const pending = sectionText(changelog.unreleased) !== ''
  const latest = changelog.releases[0]?.name
  if (!pending && !latest) {
    throw new ReleaseError(
      `${CHANGELOG} has nothing to release: add entries under "## [${UNRELEASED}]".`
    )
  }
  const version = pending ? nextVersion(text) : latest
  const tag = `v${version}`
  const notes = releaseNotes(pending ? prepareRelease(text, version, date) : text, tag)
  const { major } = parseReleaseTag(tag)
  return { version, tag, major, notes, pending }
}

function today() {
  return new Date().toISOString().slice(0, 10)
}

function readStdin() {
  try {
    return readFileSync(0, 'utf8')
  } catch {
    return ''
  }
}

function main(argv) {
  const [command, arg] = argv
  const file = process.env.CHANGELOG_FILE || CHANGELOG
  const usage = 'usage: release-notes.mjs tag|notes|prepare|move-major|dry-run [ARG]'
  const need = what => {
    if (!arg) throw new ReleaseError(`${command} needs ${what}: ${usage}`)
    return arg
  }
  switch (command) {
    case 'tag':
      process.stdout.write(`${parseReleaseTag(need('a tag')).version}\n`)
      return
    case 'notes': {
      const tag = need('a tag or version')
      if (tag !== UNRELEASED) parseReleaseTag(tag.startsWith('v') ? tag : `v${tag}`)
      process.stdout.write(`${releaseNotes(readFileSync(file, 'utf8'), tag)}\n`)
      return
    }
    case 'prepare': {
      const version = need('a version').replace(/^v/, '')
      writeFileSync(file, prepareRelease(readFileSync(file, 'utf8'), version, today()))
      process.stdout.write(`${file}: ## [${UNRELEASED}] is now ## [${version}] - ${today()}\n`)
      return
    }
    case 'move-major': {
      const major = majorTagToMove(need('a tag'), readStdin().split(/\s+/).filter(Boolean))
      process.stdout.write(major ? `${major}\n` : '')
      return
    }
    case 'dry-run': {
      const result = dryRun(readFileSync(file, 'utf8'), today())
      const what = result.pending
        ? `releasing ## [${UNRELEASED}] as ${result.tag} (the version is an example)`
        : `tagging ${result.tag} (## [${UNRELEASED}] is empty)`
      process.stdout.write(
        `Dry run: ${what} would publish these notes and move ${result.major}:\n\n${result.notes}\n`
      )
      return
    }
    default:
      throw new ReleaseError(usage)
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
}
