// Fails when dist/ differs from a fresh build of src/ (what users run must be what we test).
// The fresh build goes to a temporary directory, so dist/ itself is never touched here; the e2e
// suite runs the same comparison against the bundle its global setup built.
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildBundles } from './package.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const DIST = path.join(ROOT, 'dist')

function files(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile())
    .map(e => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort()
}

/** The files (relative paths) that differ between the two trees, or exist in only one. */
export function differingFiles(expected, actual) {
  const a = files(expected)
  const b = files(actual)
  const all = [...new Set([...a, ...b])].sort()
  return all.filter(
    f =>
      !a.includes(f) ||
      !b.includes(f) ||
      !readFileSync(path.join(expected, f)).equals(readFileSync(path.join(actual, f)))
  )
}

/** One line telling what is stale and how to fix it, or undefined when dist/ is fresh. */
export function staleMessage(fresh, dist = DIST) {
  const changed = differingFiles(fresh, dist)
  if (changed.length === 0) return undefined
  const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? ', ...' : '')
  return `dist/ is stale: ${changed.length} file(s) differ from a fresh build of src/ (${shown}). Run \`npm run package\` and commit dist/.`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tmp = await mkdtemp(path.join(tmpdir(), 'check-dist-'))
  try {
    const fresh = await buildBundles(path.join(tmp, 'dist'))
    const message = staleMessage(fresh.dir)
    if (message) {
      console.error(message)
      process.exitCode = 1
    } else {
      console.log('dist/ matches a fresh build of src/')
    }
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}
