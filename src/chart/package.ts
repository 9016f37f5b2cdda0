import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { UserError } from '../errors.js'
import { Helm } from '../helm/helm.js'
import type { ChartJob } from '../model.js'
import { isInside } from '../runtime/paths.js'
import { explainDependencyFailure } from '../deps/explain.js'
import { prepareOciDependencies } from '../deps/oci.js'
import { privateRepositories } from '../deps/repositories.js'
import { stagePackagedChart } from './packaged.js'
import { copyWalkedCharts, walkChart } from './chart-files.js'
import type { DeclaredDependency } from './declared-dependencies.js'
import { HelmCommandError, followedLinks } from '../helm/helm-output.js'
import { makeReproducible, type SourceEpoch } from './reproducible.js'

/* One chart directory -> one archive. The chart (and its file:// dependencies) is copied into the
   job-private directory exactly as the files walk accepted it; Helm builds its dependencies and
   packages it there, so Helm reads nothing else and the checkout is never written. Then the
   reproducible rewrite. A packaged .tgz input is pushed as it is, from a checked copy (packaged.ts). */

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

/** Fails the chart when Helm followed a link out of the private copy (the copy has none). */
function refuseFollowedLinks(output: string, copyRoot: string, display: string): void {
  for (const target of followedLinks(output)) {
    if (target === '' || !isInside(copyRoot, target)) {
      throw new UserError(
        `Chart "${display}": Helm followed a symbolic link to ${target || 'an unknown place'}, outside the walked files: nothing outside the workspace is published; remove the link.`
      )
    }
  }
}

/** `helm dependency build` (or `update` without a lock) in the copy, with private repositories. */
async function buildDependencies(
  helm: Helm,
  job: ChartJob,
  chartDir: string,
  work: string,
  dependencies: DeclaredDependency[],
  context: PackageContext,
  hasLock: boolean
): Promise<void> {
  const repositories = dependencies.map(d => d.repository)
  if (repositories.some(r => r.startsWith('oci://'))) {
    await context.registryReady()
    await prepareOciDependencies(helm, job.source.display, repositories)
  }
  const { env } = await privateRepositories(repositories, work)
  let output: string
  try {
    const result = await helm.dependencyBuild(chartDir, hasLock, env)
    output = `${result.stdout}\n${result.stderr}`
  } catch (error) {
    if (error instanceof HelmCommandError) {
      throw explainDependencyFailure(error, job.source.display, dependencies)
    }
    throw error
  }
  refuseFollowedLinks(output, work, job.source.display)
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
  const charts = await walkChart(job.source.path, settings.workspace, job.source.display)
  const work = await fs.mkdtemp(path.join(context.workDir, `${job.meta.name}-`))
  const chartDir = await copyWalkedCharts(charts, path.join(work, 'src'))
  const [chart] = charts
  // Helm builds from the metadata file of the chart's API version; a lock alone names nothing new.
  const declared = chart.dependencies.filter(d => !/\.lock$/.test(d.file))
  if (declared.length > 0) {
    const hasLock = chart.files.has('Chart.lock') || chart.files.has('requirements.lock')
    await buildDependencies(helm, job, chartDir, work, chart.dependencies, context, hasLock)
  }
  const destination = path.join(work, 'package')
  await fs.mkdir(destination, { mode: 0o700 })
  const archive = await helm.package(
    chartDir,
    destination,
    settings.versionOverride ? job.version : undefined,
    settings.appVersion,
    output => refuseFollowedLinks(output, work, job.source.display)
  )
  const seconds = await epoch(job.source.path)
  if (seconds !== undefined) await makeReproducible(archive, seconds)
  return settings.sign
    ? settings.sign({ archive, packaged: false, epoch: seconds, workDir: context.workDir })
    : archive
}
