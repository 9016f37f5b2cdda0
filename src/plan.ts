import * as path from 'node:path'
import { UserError } from './errors.js'
import { ociTag, type ChartMetadata, type ChartSource } from './chart.js'

/** Where charts go: `oci://HOST/NAMESPACE`. */
export interface Target {
  host: string
  namespace: string
  /** For ECR Public the first namespace segment is the alias, not part of the repository name. */
  repositoryPrefix: string
}

export interface ChartJob {
  source: ChartSource
  meta: ChartMetadata
  /** Version to publish (input override or Chart.yaml). */
  version: string
  tag: string
  /** Repository name as the registry's API knows it, e.g. `charts/el-testo`. */
  repositoryName: string
  /** Indexes of the charts of this run that must be published first. */
  dependsOn: number[]
}

/** The push target; for ECR Public the first namespace segment is the registry alias. */
export function makeTarget(host: string, namespace: string, ecrPublic: boolean): Target {
  return {
    host,
    namespace,
    repositoryPrefix: ecrPublic ? namespace.split('/').slice(1).join('/') : namespace
  }
}

/** `oci://HOST/NAMESPACE`: what `helm push` and Terraform's helm_release.repository take. */
export function ociRepository(target: Target): string {
  return `oci://${target.namespace ? `${target.host}/${target.namespace}` : target.host}`
}

export function ociReference(target: Target, chart: string, tag: string): string {
  return `${ociRepository(target)}/${chart}:${tag}`
}

export function repositoryName(target: Target, chart: string): string {
  return target.repositoryPrefix ? `${target.repositoryPrefix}/${chart}` : chart
}

function normaliseRepo(url: string): string {
  return url.trim().replace(/\/+$/, '').toLowerCase()
}

/**
 * Finds, for each chart, the charts of the same run it depends on: a `file://` path to
 * another chart directory, or the target repository with another chart's name.
 */
export function linkDependencies(jobs: ChartJob[], target: Target): void {
  const byPath = new Map(jobs.map((job, i) => [job.source.path, i]))
  const byName = new Map(jobs.map((job, i) => [job.meta.name, i]))
  const remote = normaliseRepo(ociRepository(target))
  jobs.forEach((job, i) => {
    const deps = new Set<number>()
    for (const dep of job.meta.dependencies) {
      const repo = dep.repository ?? ''
      let j: number | undefined
      if (repo.startsWith('file://') && job.source.kind === 'dir') {
        j = byPath.get(path.resolve(job.source.path, repo.slice('file://'.length)))
      } else if (normaliseRepo(repo) === remote) {
        j = byName.get(dep.name)
      }
      if (j !== undefined && j !== i) deps.add(j)
    }
    job.dependsOn = [...deps]
  })
  const cycle = findCycle(jobs)
  if (cycle) {
    throw new UserError(
      `Charts depend on each other in a cycle (${cycle.map(i => jobs[i].meta.name).join(' -> ')}): remove one of these dependencies.`
    )
  }
}

/** A dependency cycle as chart indexes (first repeated at the end), or undefined. */
export function findCycle(jobs: Pick<ChartJob, 'dependsOn'>[]): number[] | undefined {
  const state = new Array<0 | 1 | 2>(jobs.length).fill(0) // unvisited, on stack, done
  const stack: number[] = []
  const visit = (i: number): number[] | undefined => {
    state[i] = 1
    stack.push(i)
    for (const j of jobs[i].dependsOn) {
      if (state[j] === 1) return [...stack.slice(stack.indexOf(j)), j]
      if (state[j] === 0) {
        const found = visit(j)
        if (found) return found
      }
    }
    stack.pop()
    state[i] = 2
    return undefined
  }
  for (let i = 0; i < jobs.length; i++) {
    if (state[i] === 0) {
      const found = visit(i)
      if (found) return found
    }
  }
  return undefined
}

export function makeJob(
  source: ChartSource,
  meta: ChartMetadata,
  version: string,
  target: Target
): ChartJob {
  return {
    source,
    meta,
    version,
    tag: ociTag(version),
    repositoryName: repositoryName(target, meta.name),
    dependsOn: []
  }
}
