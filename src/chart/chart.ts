import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import semver from 'semver'
import { glob, isDynamicPattern } from 'tinyglobby'
import { UserError } from '../errors.js'
import type { ChartMetadata, ChartSource, Dependency } from '../model.js'
import { isInside, workspaceDir } from '../runtime/paths.js'
import { parseDocument } from 'yaml'
import { isInGitDir } from './file-rules.js'
import { readMetadataFile } from './strict-yaml.js'

/** One segment of an ECR repository name; a chart name becomes the last one. */
export const REPOSITORY_SEGMENT = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/

async function statOrUndefined(p: string) {
  return fs.stat(p).catch(() => undefined)
}

async function insideWorkspace(p: string, workspace: string, display: string): Promise<string> {
  const real = await fs.realpath(p)
  const root = await fs.realpath(workspace)
  if (!isInside(root, real)) {
    throw new UserError(
      `Input "charts" entry "${display}" is outside the workspace (${root}): check out the chart into the workspace and use a relative path.`
    )
  }
  return real
}

/** A match is a chart directory, a Chart.yaml (its directory) or a .tgz archive. */
async function toSource(
  absolute: string,
  workspace: string,
  display: string,
  fromGlob: boolean
): Promise<ChartSource | undefined> {
  const stat = await statOrUndefined(absolute)
  if (!stat) {
    throw new UserError(
      `Input "charts" entry "${display}" does not exist in the workspace: check the path (is the repository checked out?).`
    )
  }
  if (stat.isDirectory()) {
    if (!(await statOrUndefined(path.join(absolute, 'Chart.yaml')))) {
      // A glob such as charts/* may also match folders that are not charts: skip them, as files.
      if (fromGlob) return undefined
      throw new UserError(
        `Input "charts" entry "${display}" is a directory without Chart.yaml: point it at a chart directory.`
      )
    }
    return { kind: 'dir', path: await insideWorkspace(absolute, workspace, display), display }
  }
  if (path.basename(absolute) === 'Chart.yaml') {
    const dir = path.dirname(absolute)
    return {
      kind: 'dir',
      path: await insideWorkspace(dir, workspace, display),
      display: path.dirname(display)
    }
  }
  if (absolute.endsWith('.tgz')) {
    // Helm reads it to plan the run: a FIFO would block it (packaged.ts checks the rest).
    if (!stat.isFile()) {
      throw new UserError(
        `Input "charts" entry "${display}" is not a regular file: point it at a chart archive made by "helm package".`
      )
    }
    return { kind: 'tgz', path: await insideWorkspace(absolute, workspace, display), display }
  }
  if (fromGlob) return undefined
  throw new UserError(
    `Input "charts" entry "${display}" is neither a chart directory, a Chart.yaml nor a .tgz archive: point it at a chart.`
  )
}

/** Expands the `charts` list (paths and globs) into distinct chart sources, in input order. */
export async function discoverCharts(
  patterns: string[],
  workspace: string
): Promise<ChartSource[]> {
  const found: ChartSource[] = []
  const seen = new Set<string>()
  for (const pattern of patterns) {
    const sources: (ChartSource | undefined)[] = []
    if (isDynamicPattern(pattern)) {
      const matches = await glob(pattern, {
        cwd: workspace,
        onlyFiles: false,
        expandDirectories: false,
        ignore: ['**/node_modules/**', '**/.git/**']
      })
      matches.sort()
      for (const match of matches) {
        const display = match.replace(/\/$/, '')
        sources.push(await toSource(path.resolve(workspace, match), workspace, display, true))
      }
      if (!sources.some(Boolean)) {
        throw new UserError(
          `Input "charts" pattern "${pattern}" matched no chart directory, Chart.yaml or .tgz: fix the pattern or remove it.`
        )
      }
    } else {
      sources.push(await toSource(path.resolve(workspace, pattern), workspace, pattern, false))
    }
    for (const source of sources) {
      if (source && !seen.has(source.path)) {
        seen.add(source.path)
        found.push(source)
      }
    }
  }
  return found
}

/** Validates Chart.yaml text; `where` names the file in messages. */
export function parseChartYaml(text: string, where: string): ChartMetadata {
  // Read tolerantly for the plan (name, version, order); the files walk (chart-files.ts) refuses
  // the chart, alone, when its metadata is not plain YAML (strict-yaml.ts).
  const parsed = parseDocument(text, { uniqueKeys: false })
  if (parsed.errors.length > 0) {
    throw new UserError(
      `${where} is not valid YAML (${parsed.errors[0].message.split('\n')[0]}): fix the file.`
    )
  }
  const doc: unknown = parsed.toJS({ maxAliasCount: 100 })
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UserError(`${where} is not a YAML mapping: it needs at least "name" and "version".`)
  }
  const chart = doc as Record<string, unknown>
  const name = typeof chart.name === 'string' ? chart.name.trim() : ''
  if (name === '') throw new UserError(`${where} has no "name": add the chart name.`)
  if (!REPOSITORY_SEGMENT.test(name)) {
    throw new UserError(
      `${where} name "${name}" is not a valid repository name: use lowercase letters, digits and single ".", "_" or "-" between them.`
    )
  }
  const version =
    chart.version === undefined || chart.version === null ? '' : String(chart.version).trim()
  if (version === '') {
    throw new UserError(`${where} has no "version": add one, or set the "version" input.`)
  }
  const appVersion =
    chart.appVersion === undefined || chart.appVersion === null
      ? undefined
      : String(chart.appVersion)
  const dependencies: Dependency[] = []
  if (Array.isArray(chart.dependencies)) {
    for (const dep of chart.dependencies) {
      if (dep && typeof dep === 'object' && typeof (dep as Dependency).name === 'string') {
        const d = dep as Record<string, unknown>
        dependencies.push({
          name: String(d.name),
          version: d.version === undefined ? undefined : String(d.version),
          repository: typeof d.repository === 'string' ? d.repository : undefined
        })
      }
    }
  }
  const description =
    typeof chart.description === 'string' && chart.description.trim() !== ''
      ? chart.description.trim()
      : undefined
  return { name, version, appVersion, ...(description ? { description } : {}), dependencies }
}

/**
 * Chart.yaml, checked before it is read: a link must stay in the workspace and out of `.git`, the
 * file must be a regular file of sane size (a link to /dev/zero or to another YAML file is no
 * chart's metadata).
 */
export async function readChartDir(
  dir: string,
  display: string,
  workspace: string = workspaceDir()
): Promise<ChartMetadata> {
  const file = path.join(dir, 'Chart.yaml')
  const where = path.join(display, 'Chart.yaml')
  const real = await fs.realpath(file).catch(() => {
    throw new UserError(`${where} is a symbolic link to a file that does not exist: fix the link.`)
  })
  const root = await fs.realpath(workspace)
  if (!isInside(root, real) || isInGitDir(root, real)) {
    throw new UserError(
      `${where} is a symbolic link to ${real}, ${isInGitDir(root, real) ? 'inside a .git directory' : `outside the workspace (${root})`}: make Chart.yaml a file of the chart.`
    )
  }
  if (!(await fs.stat(real)).isFile()) {
    throw new UserError(`${where} is not a regular file: make Chart.yaml a file of the chart.`)
  }
  return parseChartYaml(await readMetadataFile(real, where), where)
}

export async function hasChartLock(dir: string): Promise<boolean> {
  return Boolean(await statOrUndefined(path.join(dir, 'Chart.lock')))
}

/** The version to publish: the input wins over Chart.yaml; both must be SemVer 2. */
export function effectiveVersion(meta: ChartMetadata, override: string | undefined, where: string) {
  const version = override ?? meta.version
  if (!isSemVer2(version)) {
    throw new UserError(
      `${where} version "${meta.version}" is not SemVer 2: fix Chart.yaml or set the "version" input.`
    )
  }
  return version
}

/** Strict SemVer 2 (build metadata allowed, no "v" prefix), as Helm requires of chart versions. */
export function isSemVer2(version: string): boolean {
  return version === version.trim() && !/^[v=]/.test(version) && semver.parse(version) !== null
}

/** Helm turns "+" into "_" in OCI tags (build metadata is not allowed in a tag). */
export function ociTag(version: string): string {
  return version.replace(/\+/g, '_')
}
