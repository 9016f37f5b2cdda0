import * as path from 'node:path'
import {
  discoverCharts,
  effectiveVersion,
  parseChartYaml,
  readChartDir,
  type ChartMetadata,
  type ChartSource
} from './chart.js'
import { UserError } from './errors.js'
import { Helm, HelmCommandError } from './helm.js'
import type { Inputs } from './inputs.js'
import { linkDependencies, makeJob, type ChartJob, type Target } from './plan.js'

/* From the charts input to the list of publish jobs: discovery, Chart.yaml, versions, order. */

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
  inputs: Inputs
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
        `Input "charts" entry "${source.display}" is not a readable Helm chart archive (${error.message.replace(/^helm show chart failed: /, '')}): package it with "helm package" or point at the chart directory.`
      )
    }
    throw error
  }
}

/** Helm 3.18.0 fails every push of a version with build metadata ("Error: not found", helm#30881). */
function rejectKnownHelmBugs(helm: Helm, jobs: ChartJob[]): void {
  const withBuild = jobs.find(job => job.version.includes('+'))
  if (helm.semver === '3.18.0' && withBuild) {
    throw new UserError(
      `Helm 3.18.0 cannot push version ${withBuild.version} (build metadata after "+", helm/helm#30881): set "helm-version" to another release, e.g. "3" or "4".`
    )
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
export async function buildJobs(
  helm: Helm,
  charts: Awaited<ReturnType<typeof readCharts>>,
  inputs: Inputs,
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
  rejectKnownHelmBugs(helm, jobs)
  linkDependencies(jobs, target)
  return jobs
}
