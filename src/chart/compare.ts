import { isDeepStrictEqual } from 'node:util'
import YAML from 'yaml'
import { UserError } from '../errors.js'
import { isGzip } from './archive.js'
import { loadedFiles, NotComparable, type LoadedChart } from './loaded-files.js'

/*
 * Whether two chart archives hold the same chart as Helm loads it (loaded-files.ts): the same
 * paths with the same bytes, Chart.yaml compared as data (Helm re-serialises it), nested
 * dependency archives by their content; timestamps, modes, owners, entry order and compression
 * are ignored. A published archive this action cannot read the way Helm reads it (odd entry
 * types, names, duplicates, another top directory) is never the same content.
 */

export interface ArchiveDifference {
  /** Path inside the chart (without the chart's top directory), or the archive entry refused. */
  path: string
  change: 'added' | 'removed' | 'changed' | 'not comparable'
  /** For 'not comparable': the rule the published archive breaks. */
  reason?: string
}

/** Chart.yaml of the chart or of an unpacked subchart (charts/NAME/Chart.yaml, nested). */
function isChartYaml(path: string): boolean {
  return /^(charts\/[^/]+\/)*Chart\.yaml$/.test(path)
}

function sameYaml(a: Buffer, b: Buffer): boolean {
  try {
    return isDeepStrictEqual(YAML.parse(a.toString('utf8')), YAML.parse(b.toString('utf8')))
  } catch {
    return a.equals(b)
  }
}

async function sameContent(path: string, a: Buffer, b: Buffer, depth: number): Promise<boolean> {
  if (a.equals(b)) return true
  if (isChartYaml(path)) return sameYaml(a, b)
  // A lock's generated: time is when dependencies were resolved, not what the chart holds.
  if (/(^|\/)(Chart|requirements)\.lock$/.test(path)) {
    const undated = (x: Buffer) => x.toString('utf8').replace(/^generated:[^\n]*$/m, '')
    if (undated(a) === undated(b)) return true
  }
  if (depth < 4 && /^charts\/[^/]+\.tgz$/.test(path) && isGzip(a) && isGzip(b)) {
    try {
      const [before, after] = await Promise.all([
        loadedFiles(a, `The published dependency ${path}`),
        loadedFiles(b, `The new dependency ${path}`)
      ])
      return before.top === after.top && (await diffLoaded(before, after, depth + 1)).length === 0
    } catch {
      return false
    }
  }
  return false
}

async function diffLoaded(
  before: LoadedChart,
  after: LoadedChart,
  depth: number
): Promise<ArchiveDifference[]> {
  const differences: ArchiveDifference[] = []
  for (const [path, data] of after.files) {
    const old = before.files.get(path)
    if (old === undefined) differences.push({ path, change: 'added' })
    else if (!(await sameContent(path, old, data, depth)))
      differences.push({ path, change: 'changed' })
  }
  for (const path of before.files.keys()) {
    if (!after.files.has(path)) differences.push({ path, change: 'removed' })
  }
  return differences.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))
}

/**
 * Differences between the published archive and the new one of chart `chartName`, sorted by
 * path ([] = same chart). A published archive Helm would read differently from this reader is
 * one 'not comparable' difference; a new archive it cannot read fails in one line.
 */
export async function diffArchives(
  published: Buffer,
  candidate: Buffer,
  chartName: string
): Promise<ArchiveDifference[]> {
  let after: LoadedChart
  try {
    after = await loadedFiles(candidate, `The new archive of chart "${chartName}"`)
  } catch (error) {
    if (!(error instanceof NotComparable)) throw error
    throw new UserError(
      `The archive of chart "${chartName}" cannot be compared with the published one (${error.message}): package the chart with "helm package", or turn off skip-existing.`
    )
  }
  let before: LoadedChart
  try {
    before = await loadedFiles(published, `The published archive of chart "${chartName}"`)
  } catch (error) {
    if (!(error instanceof NotComparable)) throw error
    return [{ path: error.entry, change: 'not comparable', reason: error.rule }]
  }
  if (before.top !== chartName) {
    return [
      {
        path: `${before.top}/`,
        change: 'not comparable',
        reason: `a top directory other than the chart's name "${chartName}"`
      }
    ]
  }
  return diffLoaded(before, after, 0)
}

function describe(d: ArchiveDifference): string {
  if (d.change !== 'not comparable') return `${d.path} ${d.change}`
  const reason = d.reason ?? 'not comparable'
  return d.path ? `published entry ${d.path} is ${reason}` : `the published archive holds ${reason}`
}

/** `values.yaml changed, templates/new.yaml added and 3 more`: the first few, for one log line. */
export function describeDifferences(differences: ArchiveDifference[], max = 3): string {
  const shown = differences.slice(0, max).map(describe)
  const more = differences.length - shown.length
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ')
}
