import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Helm } from '../helm/helm.js'
import type { ChartJob } from '../model.js'
import { hasChartLock } from './chart.js'
import { stagePackagedChart } from './packaged.js'
import { makeReproducible, type SourceEpoch } from './reproducible.js'

/* One chart directory -> one archive: its dependencies built, `helm package`, the reproducible
   rewrite. A packaged .tgz input is pushed as it is, from a checked copy (packaged.ts). */

/** What goes into each chart's package, from the inputs. */
export interface PackageSettings {
  /** Nothing outside it may go into a chart (chart-files.ts); lint annotations name files from it. */
  workspace: string
  appVersion?: string
  /** Whether `version` came from the input (then `helm package --version` applies it). */
  versionOverride: boolean
  /**
   * The timestamp of reproducible archives (reproducible.ts), by chart directory. When set, every
   * chart this step packages is rewritten deterministically, and skip-existing compares contents.
   */
  sourceEpoch?: (dir: string) => Promise<SourceEpoch>
}

export interface PackageContext {
  /** Scratch space inside the job-private directory. */
  workDir: string
  /** Settles once OCI dependencies can be pulled (the registry login is done). */
  registryReady: () => Promise<void>
}

/** The archive to push for a job: the input .tgz, or the chart directory packaged. */
export async function packageChart(
  helm: Helm,
  job: ChartJob,
  settings: PackageSettings,
  context: PackageContext
): Promise<string> {
  if (job.source.kind !== 'dir') {
    const { path: archive, display } = job.source
    return stagePackagedChart(archive, settings.workspace, display, context.workDir)
  }
  if (job.meta.dependencies.some(dep => dep.repository?.startsWith('oci://'))) {
    await context.registryReady()
  }
  if (job.meta.dependencies.length > 0) {
    await helm.dependencyBuild(job.source.path, await hasChartLock(job.source.path))
  }
  const destination = await fs.mkdtemp(path.join(context.workDir, `${job.meta.name}-`))
  const archive = await helm.package(
    job.source.path,
    destination,
    settings.versionOverride ? job.version : undefined,
    settings.appVersion
  )
  if (settings.sourceEpoch) {
    await makeReproducible(archive, (await settings.sourceEpoch(job.source.path)).seconds)
  }
  return archive
}
