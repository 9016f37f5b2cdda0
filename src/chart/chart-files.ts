import type { Stats } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { UserError } from '../errors.js'
import { isInside } from '../runtime/paths.js'
import { HARD_LINK_FIX, hardLinkRefusal, isInGitDir } from './file-rules.js'
import { declaredDependencies, type DeclaredDependency } from './declared-dependencies.js'

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

/** More files than any chart has (links repeating directories could multiply them). */
const MAX_FILES = 20_000

interface Walk {
  /** The workspace, symlinks resolved. */
  workspace: string
  /** How the chart is named in messages (relative to the workspace). */
  display: string
  /** The chart directory as Helm sees it (messages name files relative to it). */
  root: string
  /** What the walk accepted: each file as Helm names it (relative to root) -> its real path. */
  files: Map<string, string>
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
  const entries = await fs.readdir(dir)
  if (walk.files.size + entries.length > MAX_FILES) {
    refuse(
      walk,
      dir,
      `more than ${MAX_FILES} files deep`,
      'a chart this big (or links that repeat a directory many times) cannot be published; trim it.'
    )
  }
  entries.sort()
  for (const name of entries) {
    // A checkout's own .git (a chart at the repository root) is never chart content.
    if (name === '.git') continue
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
      walk.files.set(path.relative(walk.root, file), path.join(real, name))
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
    if (isInGitDir(walk.workspace, target)) {
      refuse(
        walk,
        file,
        `a symbolic link into a .git directory (${target})`,
        'a checkout keeps its credentials there; remove the link.'
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
      // Walked again under each name it has: Helm packages it under each.
      await walkDir(walk, file, target, [...chain, target])
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
    walk.files.set(path.relative(walk.root, file), target)
  }
}

/** Where Helm looks for a `file://` dependency (downloader.GetLocalPath: absolute, or chart-relative). */
export function fileDependencyPath(repository: string, chartDir: string): string | undefined {
  if (!repository.startsWith('file://')) return undefined
  const p = repository.slice('file://'.length)
  return path.isAbsolute(p) ? path.resolve(p) : path.join(chartDir, p)
}

/** One chart directory as the walk accepted it. */
export interface WalkedChart {
  /** The directory as Helm will name it (lexical: a file:// path joined to its parent's). */
  dir: string
  /** Relative to the workspace: where its copy goes in a private copy of the tree. */
  relative: string
  display: string
  /** Each accepted file, relative to `dir` -> its real path. */
  files: Map<string, string>
  dependencies: DeclaredDependency[]
}

/**
 * Walks everything Helm will read to package the chart in `chartDir` (absolute, symlinks
 * resolved): its files, and every `file://` dependency that Chart.yaml, requirements.yaml or a
 * lock names (and theirs), which `helm dependency build` copies in. Throws a one-line UserError
 * naming the first offending file. The chart itself comes first.
 */
export async function walkChart(
  chartDir: string,
  workspace: string,
  display: string
): Promise<WalkedChart[]> {
  const root = await fs.realpath(workspace)
  const pending: { dir: string; display: string }[] = [{ dir: chartDir, display }]
  const seen = new Set<string>()
  const charts: WalkedChart[] = []
  while (pending.length > 0) {
    const chart = pending.shift() as { dir: string; display: string }
    if (seen.has(chart.dir)) continue
    seen.add(chart.dir)
    const real = await fs.realpath(chart.dir)
    const walk: Walk = {
      workspace: root,
      display: chart.display,
      root: chart.dir,
      files: new Map()
    }
    await walkDir(walk, chart.dir, real, [real])
    const dependencies = await declaredDependencies(walk.files, chart.display)
    charts.push({
      dir: chart.dir,
      relative: path.relative(root, chart.dir),
      display: chart.display,
      files: walk.files,
      dependencies
    })
    for (const { repository, file } of dependencies) {
      const depPath = fileDependencyPath(repository, chart.dir)
      if (depPath === undefined) continue
      const named = `Chart "${chart.display}" dependency ${repository} (${file})`
      let depReal: string
      try {
        depReal = await fs.realpath(depPath)
      } catch {
        throw new UserError(
          `${named} does not exist (${depPath}): fix its "repository" in ${file}.`
        )
      }
      if (!isInside(root, depReal) || !isInside(root, depPath)) {
        throw new UserError(
          `Chart "${chart.display}" dependency ${repository} resolves to ${depReal}, outside the workspace (${root}): nothing outside the workspace is published; check the dependency out into the workspace or use a chart repository.`
        )
      }
      if (isInGitDir(root, depReal) || isInGitDir(root, depPath)) {
        throw new UserError(
          `${named} resolves into a .git directory (${depReal}): a checkout keeps its credentials there; point it at a chart directory.`
        )
      }
      if (path.isAbsolute(repository.slice('file://'.length))) {
        throw new UserError(
          `${named} is an absolute path: use a path relative to the chart (file://../${path.basename(depReal)}), so the chart builds the same in every checkout.`
        )
      }
      // Helm resolves it against the private copy: a path that climbs above the workspace and
      // comes back in (file://../../../../home/runner/work/r/r) reads the original checkout there,
      // .git and all, while here it looks like a path inside the workspace.
      const lexical = path.join(path.relative(root, chart.dir), repository.slice('file://'.length))
      if (lexical === '..' || lexical.startsWith(`..${path.sep}`)) {
        throw new UserError(
          `${named} climbs above the workspace on its way to ${depPath}: name it by a path that stays inside the workspace (file://${path.relative(chart.dir, depPath)}).`
        )
      }
      if (!(await fs.stat(depReal)).isDirectory()) {
        throw new UserError(
          `${named} is not a chart directory (${depPath}): fix its "repository" in ${file}.`
        )
      }
      pending.push({ dir: depPath, display: path.relative(root, depPath) || '.' })
    }
  }
  return charts
}

/** Checks a chart's files and file:// dependencies (walkChart) before anything else meets it. */
export async function checkChartFiles(
  chartDir: string,
  workspace: string,
  display: string
): Promise<void> {
  await walkChart(chartDir, workspace, display)
}

/**
 * Copies exactly what the walk accepted into `destination`, each chart at its place relative to
 * the workspace (so relative file:// paths resolve to the copies), links replaced by the files
 * they point at. Returns the copy of the first chart. Helm then reads nothing else.
 */
export async function copyWalkedCharts(
  charts: WalkedChart[],
  destination: string
): Promise<string> {
  for (const chart of charts) {
    const dir = path.join(destination, chart.relative)
    await fs.mkdir(dir, { recursive: true, mode: 0o700 })
    for (const [name, real] of chart.files) {
      const copy = path.join(dir, name)
      await fs.mkdir(path.dirname(copy), { recursive: true, mode: 0o700 })
      await fs.copyFile(real, copy)
    }
  }
  return path.join(destination, charts[0].relative)
}
