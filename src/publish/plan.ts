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
import { Helm } from '../helm/helm.js'
import type { ChartMetadata, ChartSource } from '../model.js'
import { HelmCommandError } from '../helm/helm-output.js'
import { rejectKnownHelmBugs } from '../config/config.js'

/** What the inputs may change of every chart directory's metadata. */
export interface VersionOverrides {
  version?: string
  appVersion?: string
}

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
  const byName = new Map(
    jobs.flatMap((job, i) => (job.problem ? [] : [[job.meta.name, i] as const]))
  )
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

/** A chart found by the "charts" input: its metadata, or why it cannot be read. */
export interface FoundChart {
  source: ChartSource
  /** Read from a directory's Chart.yaml; archives are read once Helm is in. */
  meta?: ChartMetadata
  /** The chart's own problem (an invalid Chart.yaml): it fails alone. */
  problem?: string
}

/** The chart's own problems are its failure; anything else stops the step. */
async function ownProblem<T>(read: () => Promise<T>): Promise<{ value: T } | { problem: string }> {
  try {
    return { value: await read() }
  } catch (error) {
    if (error instanceof UserError) return { problem: error.message }
    throw error
  }
}

/** Finds the charts and reads each directory's Chart.yaml. */
export async function readCharts(patterns: string[], workspace: string): Promise<FoundChart[]> {
  const sources = await discoverCharts(patterns, workspace)
  return Promise.all(
    sources.map(async (source): Promise<FoundChart> => {
      if (source.kind !== 'dir') return { source }
      const meta = await ownProblem(() => readChartDir(source.path, source.display, workspace))
      return 'problem' in meta ? { source, problem: meta.problem } : { source, meta: meta.value }
    })
  )
}

/** The job of a chart that fails on its own problem, named after its directory or file. */
function failedJob(source: ChartSource, problem: string, target: Target): ChartJob {
  const name = path.basename(source.path).replace(/\.tgz$/, '')
  return { ...makeJob(source, { name, version: '', dependencies: [] }, '', target), problem }
}

/** A packaged chart's version is fixed, so overrides cannot apply. */
function refuseArchiveOverrides(source: ChartSource, inputs: VersionOverrides): void {
  if (inputs.version || inputs.appVersion) {
    throw new UserError(
      `Inputs "version" and "app-version" cannot change the packaged chart "${source.display}": pass its chart directory instead, or leave them empty.`
    )
  }
}

/** Chart.yaml inside a packaged chart. */
async function archiveMetadata(helm: Helm, source: ChartSource): Promise<ChartMetadata> {
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
  for (const job of jobs.filter(j => !j.problem)) {
    const other = seen.get(job.meta.name)
    if (other) {
      throw new UserError(
        `Input "charts" has two charts named "${job.meta.name}" (${other.source.display} and ${job.source.display}): publish each name once per run.`
      )
    }
    seen.set(job.meta.name, job)
  }
}

/** The job of one chart; a chart whose own metadata is wrong gets a job that fails alone. */
async function planJob(
  helm: Helm,
  { source, meta: dirMeta, problem }: FoundChart,
  inputs: VersionOverrides,
  target: Target
): Promise<ChartJob> {
  if (problem) return failedJob(source, problem, target)
  if (!dirMeta) refuseArchiveOverrides(source, inputs) // an input problem: the step stops
  const planned = await ownProblem(async () => {
    const meta = dirMeta ?? (await archiveMetadata(helm, source))
    const where = source.kind === 'dir' ? path.join(source.display, 'Chart.yaml') : source.display
    const override = source.kind === 'dir' ? inputs.version : undefined
    return makeJob(source, meta, effectiveVersion(meta, override, where), target)
  })
  return 'problem' in planned ? failedJob(source, planned.problem, target) : planned.value
}

/**
 * One job per chart, versions applied, checked against Helm's limits, ordered by dependencies.
 * A chart's own problem fails that chart (its job carries it); input problems stop the step.
 */
export async function planJobs(
  helm: Helm,
  charts: FoundChart[],
  inputs: VersionOverrides,
  target: Target
): Promise<ChartJob[]> {
  const jobs: ChartJob[] = []
  for (const chart of charts) jobs.push(await planJob(helm, chart, inputs, target))
  rejectDuplicateNames(jobs)
  rejectKnownHelmBugs(
    helm.semver,
    jobs.filter(job => !job.problem).map(job => job.version)
  )
  linkDependencies(jobs, target)
  return jobs
}
