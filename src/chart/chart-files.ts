import type { Stats } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { parse as parseYaml } from 'yaml'
import { UserError } from '../errors.js'
import { isInside } from '../runtime/paths.js'
import { HARD_LINK_FIX, hardLinkRefusal } from './file-rules.js'

/*
 * What Helm will read into a chart, checked before Helm reads it. Helm follows every symbolic
 * link in a chart directory (and in a file:// dependency) and packages what it points at, wherever
 * that is. Only the workspace may end up in a chart: a link that leaves it, or a file that is not a
 * regular file or a directory (a FIFO blocks, a device or socket is no chart content), fails the
 * chart. Links that stay inside the workspace are walked as Helm walks them (monorepos share files
 * that way).
 *
 * .helmignore is deliberately not consulted: Helm resolves every link before it applies the ignore
 * rules (it still warns "found symbolic link" for an ignored link, and a dangling one fails the
 * package), its matcher differs from gitignore's, and re-implementing it here could only open a gap
 * where our reading and Helm's differ. An ignored link to outside the workspace therefore fails too.
 */

function describeSpecial(stat: Stats): string | undefined {
  if (stat.isFIFO()) return 'a named pipe (FIFO)'
  if (stat.isSocket()) return 'a socket'
  if (stat.isCharacterDevice()) return 'a character device'
  if (stat.isBlockDevice()) return 'a block device'
  if (stat.isFile() || stat.isDirectory() || stat.isSymbolicLink()) return undefined
  return 'neither a regular file nor a directory'
}

interface Walk {
  /** The workspace, symlinks resolved. */
  workspace: string
  /** How the chart is named in messages (relative to the workspace). */
  display: string
  /** The chart directory as Helm sees it (messages name files relative to it). */
  root: string
  /** Real directories already checked (a directory linked twice is read twice, checked once). */
  checked: Set<string>
}

function refuse(walk: Walk, file: string, why: string, fix: string): never {
  const name = path.relative(walk.root, file) || '.'
  throw new UserError(`Chart "${walk.display}" file ${name} is ${why}: ${fix}`)
}

/**
 * Walks `dir` (the path Helm will use) whose real path is `real`, without following links
 * except to check where they point. `chain` holds the real directories on Helm's way down to
 * `dir`: a link to one of them, or above one, is a loop.
 */
async function walkDir(walk: Walk, dir: string, real: string, chain: string[]): Promise<void> {
  walk.checked.add(real)
  const entries = await fs.readdir(dir)
  entries.sort()
  for (const name of entries) {
    const file = path.join(dir, name)
    const stat = await fs.lstat(file)
    if (stat.isDirectory()) {
      const sub = path.join(real, name)
      await walkDir(walk, file, sub, [...chain, sub])
      continue
    }
    if (!stat.isSymbolicLink()) {
      const special = describeSpecial(stat)
      if (special) {
        refuse(walk, file, special, 'Helm cannot package it; remove it from the chart directory.')
      }
      const hardLinked = hardLinkRefusal(stat)
      if (hardLinked) refuse(walk, file, hardLinked, HARD_LINK_FIX)
      continue
    }
    const link = await fs.readlink(file)
    let target: string
    try {
      target = await fs.realpath(file)
    } catch {
      refuse(
        walk,
        file,
        `a symbolic link to ${link}, which does not exist`,
        'remove the link or restore its target inside the workspace.'
      )
    }
    if (!isInside(walk.workspace, target)) {
      refuse(
        walk,
        file,
        `a symbolic link to ${target}, outside the workspace (${walk.workspace})`,
        'nothing outside the workspace is published; copy the file into the workspace or remove the link.'
      )
    }
    const targetStat = await fs.stat(target)
    if (targetStat.isDirectory()) {
      // A link to a directory Helm is inside of, or above one, would make Helm walk forever.
      if (chain.some(dir => isInside(target, dir))) {
        refuse(
          walk,
          file,
          `a symbolic link to ${target}, a directory that contains it (a loop)`,
          'Helm would follow it forever; link a sibling directory instead, or remove the link.'
        )
      }
      if (!walk.checked.has(target)) await walkDir(walk, file, target, [...chain, target])
      continue
    }
    const special = describeSpecial(targetStat)
    if (special) {
      refuse(
        walk,
        file,
        `a symbolic link to ${target}, ${special}`,
        'Helm cannot package it; remove the link from the chart directory.'
      )
    }
    const hardLinked = hardLinkRefusal(targetStat)
    if (hardLinked) refuse(walk, file, `a symbolic link to ${target}, ${hardLinked}`, HARD_LINK_FIX)
  }
}

/** The `repository` of each dependency in Chart.yaml (and a v1 chart's requirements.yaml). */
async function dependencyRepositories(chartDir: string): Promise<string[]> {
  const repositories: string[] = []
  for (const file of ['Chart.yaml', 'requirements.yaml']) {
    const text = await fs.readFile(path.join(chartDir, file), 'utf8').catch(() => undefined)
    if (text === undefined) continue
    let doc: unknown
    try {
      doc = parseYaml(text)
    } catch {
      continue // Chart.yaml was validated already; a broken requirements.yaml is Helm's to report
    }
    const deps = (doc as { dependencies?: unknown } | null)?.dependencies
    if (!Array.isArray(deps)) continue
    for (const dep of deps) {
      const repository = (dep as { repository?: unknown } | null)?.repository
      if (typeof repository === 'string') repositories.push(repository.trim())
    }
  }
  return repositories
}

/** Where Helm looks for a `file://` dependency (downloader.GetLocalPath: absolute, or chart-relative). */
export function fileDependencyPath(repository: string, chartDir: string): string | undefined {
  if (!repository.startsWith('file://')) return undefined
  const p = repository.slice('file://'.length)
  return path.isAbsolute(p) ? path.resolve(p) : path.join(chartDir, p)
}

/**
 * Checks everything Helm will read to package the chart in `chartDir` (absolute, symlinks
 * resolved): its files, and every `file://` dependency (and theirs), which `helm dependency
 * build` copies in. Throws a one-line UserError naming the first offending file.
 */
export async function checkChartFiles(
  chartDir: string,
  workspace: string,
  display: string
): Promise<void> {
  const root = await fs.realpath(workspace)
  const pending: { dir: string; display: string }[] = [{ dir: chartDir, display }]
  const seen = new Set<string>()
  while (pending.length > 0) {
    const chart = pending.shift() as { dir: string; display: string }
    const real = await fs.realpath(chart.dir)
    if (seen.has(real)) continue
    seen.add(real)
    await walkDir(
      { workspace: root, display: chart.display, root: chart.dir, checked: new Set() },
      chart.dir,
      real,
      [real]
    )
    for (const repository of await dependencyRepositories(chart.dir)) {
      const depPath = fileDependencyPath(repository, chart.dir)
      if (depPath === undefined) continue
      let depReal: string
      try {
        depReal = await fs.realpath(depPath)
      } catch {
        throw new UserError(
          `Chart "${chart.display}" dependency ${repository} does not exist (${depPath}): fix its "repository" in Chart.yaml.`
        )
      }
      if (!isInside(root, depReal)) {
        throw new UserError(
          `Chart "${chart.display}" dependency ${repository} resolves to ${depReal}, outside the workspace (${root}): nothing outside the workspace is published; check the dependency out into the workspace or use a chart repository.`
        )
      }
      pending.push({ dir: depReal, display: path.relative(root, depReal) || '.' })
    }
  }
}
