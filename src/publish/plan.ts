import * as path from 'node:path'
import {
  discoverCharts,
  effectiveVersion,
  ociTag,
  parseChartYaml,
  readChartDir
} from '../chart/chart.js'
import { UserError } from '../errors.js'
import { ociRepository, repositoryName, type ChartJob, type Target } from '../model.js'
import { Helm, HelmCommandError } from '../helm/helm.js'
import type { ChartMetadata, ChartSource } from '../model.js'
import { rejectKnownHelmBugs, type Config } from '../config/config.js'

/* The plan of a run: which charts, where they go, which version each, in which order. */

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

/** Finds the charts and reads each directory's Chart.yaml (archives are read once Helm is in). */
export async function readCharts(patterns: string[], workspace: string) {
  const sources = await discoverCharts(patterns, workspace)
  return Promise.all(
    sources.map(async source => ({
      source,
      meta: source.kind === 'dir' ? await readChartDir(source.path, source.display) : undefined
    }))
  )
}

/** Chart.yaml inside a packaged chart; its version is fixed, so overrides cannot apply. */
async function archiveMetadata(
  helm: Helm,
  source: ChartSource,
  inputs: Pick<Config, 'version' | 'appVersion'>
): Promise<ChartMetadata> {
  if (inputs.version || inputs.appVersion) {
    throw new UserError(
      `Inputs "version" and "app-version" cannot change the packaged chart "${source.display}": pass its chart directory instead, or leave them empty.`
    )
  }
  try {
    return parseChartYaml(await helm.showChart(source.path), source.display)
  } catch (error) {
    if (error instanceof HelmCommandError) {
      throw new UserError(
        `Input "charts" entry "${source.display}" is not a readable Helm chart archive (${error.reason}): package it with "helm package" or point at the chart directory.`
      )
    }
    throw error
  }
}

/** Two charts of one run with one name would overwrite each other's repository. */
function rejectDuplicateNames(jobs: ChartJob[]): void {
  const seen = new Map<string, ChartJob>()
  for (const job of jobs) {
    const other = seen.get(job.meta.name)
    if (other) {
      throw new UserError(
        `Input "charts" has two charts named "${job.meta.name}" (${other.source.display} and ${job.source.display}): publish each name once per run.`
      )
    }
    seen.set(job.meta.name, job)
  }
}

/** One job per chart, versions applied, checked against Helm's limits, ordered by dependencies. */
export async function planJobs(
  helm: Helm,
  charts: Awaited<ReturnType<typeof readCharts>>,
  inputs: Pick<Config, 'version' | 'appVersion'>,
  target: Target
): Promise<ChartJob[]> {
  const jobs: ChartJob[] = []
  for (const { source, meta: dirMeta } of charts) {
    const meta = dirMeta ?? (await archiveMetadata(helm, source, inputs))
    const where = source.kind === 'dir' ? path.join(source.display, 'Chart.yaml') : source.display
    const override = source.kind === 'dir' ? inputs.version : undefined
    jobs.push(makeJob(source, meta, effectiveVersion(meta, override, where), target))
  }
  rejectDuplicateNames(jobs)
  rejectKnownHelmBugs(
    helm.semver,
    jobs.map(job => job.version)
  )
  linkDependencies(jobs, target)
  return jobs
}
