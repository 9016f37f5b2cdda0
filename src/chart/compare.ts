import { isDeepStrictEqual } from 'node:util'
import YAML from 'yaml'
import { isGzip, readArchive, type ArchiveEntry } from './archive.js'

/*
 * Whether two chart archives hold the same chart: the same paths with the same bytes, Chart.yaml
 * compared as data (Helm re-serialises it), nested dependency archives by their content;
 * timestamps, modes, owners, entry order and compression are ignored.
 */

export interface ArchiveDifference {
  /** Path inside the chart (without the chart's top directory). */
  path: string
  change: 'added' | 'removed' | 'changed'
}

function stripTop(name: string): string {
  return name.replace(/^\/*[^/]+\/?/, '')
}

function files(entries: ArchiveEntry[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>()
  for (const e of entries) {
    if (e.type === 'directory') continue
    const data = e.type === 'file' ? e.data : Buffer.from(`-> ${e.linkname ?? ''}`)
    map.set(stripTop(e.name), data)
  }
  return map
}

function isChartYaml(path: string): boolean {
  return path === 'Chart.yaml' || /(^|\/)charts\/[^/]+\/Chart\.yaml$/.test(path)
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
  if (depth < 4 && /^charts\/[^/]+\.tgz$/.test(path) && isGzip(a) && isGzip(b)) {
    try {
      return (await diffArchives(a, b, depth + 1)).length === 0
    } catch {
      return false
    }
  }
  return false
}

/** Differences between the published archive and the new one, sorted by path ([] = same chart). */
export async function diffArchives(
  published: Buffer,
  candidate: Buffer,
  depth = 0
): Promise<ArchiveDifference[]> {
  const before = files(await readArchive(published))
  const after = files(await readArchive(candidate))
  const differences: ArchiveDifference[] = []
  for (const [path, data] of after) {
    const old = before.get(path)
    if (old === undefined) differences.push({ path, change: 'added' })
    else if (!(await sameContent(path, old, data, depth)))
      differences.push({ path, change: 'changed' })
  }
  for (const path of before.keys()) {
    if (!after.has(path)) differences.push({ path, change: 'removed' })
  }
  return differences.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0))
}

/** `values.yaml changed, templates/new.yaml added and 3 more`: the first few, for one log line. */
export function describeDifferences(differences: ArchiveDifference[], max = 3): string {
  const shown = differences.slice(0, max).map(d => `${d.path} ${d.change}`)
  const more = differences.length - shown.length
  return more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ')
}
