import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { Helm } from '../helm/helm.js'
import type { ChartJob } from '../model.js'
import { hasChartLock } from './chart.js'
import { stagePackagedChart } from './packaged.js'
import { makeReproducible, type SourceEpoch } from './reproducible.js'

/* One chart directory -> one archive: its dependencies built, `helm package`, the reproducible
   rewrite. A packaged .tgz input is pushed as it is, from a checked copy (packaged.ts). */

/** What the sign step is told about an archive (src/sign/provenance.ts signs it). */
export interface SignRequest {
  archive: string
  /** True for a packaged .tgz input (never written to: a signed copy goes into `workDir`). */
  packaged: boolean
  /** Seconds since 1970: the signature's creation time (the reproducible archives' epoch). */
  epoch?: number
  /** Scratch space inside the job-private directory. */
  workDir: string
}

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
  /**
   * "signing-key": writes the final archive's Helm provenance (.prov) beside it and returns the
   * archive to push (src/sign/). Runs in a dry run too, so its digest is the real push's.
   */
  sign?: (request: SignRequest) => Promise<string>
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
  const epoch = async (dir: string) => (await settings.sourceEpoch?.(dir))?.seconds
  if (job.source.kind !== 'dir') {
    const { path: source, display } = job.source
    const archive = await stagePackagedChart(source, settings.workspace, display, context.workDir)
    if (!settings.sign) return archive
    const request = { archive, packaged: true, workDir: context.workDir }
    return settings.sign({ ...request, epoch: await epoch(path.dirname(source)) })
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
  const seconds = await epoch(job.source.path)
  if (seconds !== undefined) await makeReproducible(archive, seconds)
  return settings.sign
    ? settings.sign({ archive, packaged: false, epoch: seconds, workDir: context.workDir })
    : archive
}
