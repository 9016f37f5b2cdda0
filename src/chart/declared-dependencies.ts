import * as path from 'node:path'
import { UserError } from '../errors.js'
import { parseStrictYaml, readMetadataFile } from './strict-yaml.js'

/* The dependencies a chart's metadata files name, read strictly: what Helm will fetch. */

/** The files that name a chart's dependencies: Helm reads each (a lock's entries are fetched too). */
export const DEPENDENCY_FILES = [
  'Chart.yaml',
  'requirements.yaml',
  'Chart.lock',
  'requirements.lock'
]

/** A dependency as one of DEPENDENCY_FILES names it. */
export interface DeclaredDependency {
  name: string
  version?: string
  repository: string
  /** The file that names it (Chart.yaml, requirements.yaml, Chart.lock, requirements.lock). */
  file: string
}

/**
 * Every dependency the chart's metadata files name, read strictly (strict-yaml.ts) from the
 * files the walk accepted. `display` names the chart in messages.
 */
export async function declaredDependencies(
  files: Map<string, string>,
  display: string
): Promise<DeclaredDependency[]> {
  const found: DeclaredDependency[] = []
  for (const file of DEPENDENCY_FILES) {
    const real = files.get(file)
    if (real === undefined) continue
    const where = path.join(display, file)
    const doc = parseStrictYaml(await readMetadataFile(real, where), where)
    // Helm reads requirements.yaml into the chart's metadata, over Chart.yaml: a "name" or
    // "version" there would publish under another name than the one planned and checked.
    if (file === 'requirements.yaml' && doc !== null && typeof doc === 'object') {
      const other = Object.keys(doc).find(key => key !== 'dependencies')
      if (other !== undefined) {
        throw new UserError(
          `${where} sets "${other}", which Helm would read over Chart.yaml's: keep only "dependencies" in requirements.yaml.`
        )
      }
    }
    const deps = (doc as { dependencies?: unknown } | null)?.dependencies
    if (deps === undefined || deps === null) continue
    if (!Array.isArray(deps)) {
      throw new UserError(`${where} "dependencies" is not a list: fix the file.`)
    }
    for (const dep of deps) {
      const d = (dep ?? {}) as Record<string, unknown>
      if (d.repository !== undefined && d.repository !== null && typeof d.repository !== 'string') {
        throw new UserError(`${where} has a dependency whose "repository" is not text: fix it.`)
      }
      found.push({
        name: typeof d.name === 'string' ? d.name : String(d.name ?? ''),
        ...(d.version === undefined || d.version === null ? {} : { version: String(d.version) }),
        repository: typeof d.repository === 'string' ? d.repository.trim() : '',
        file
      })
    }
  }
  return found
}
