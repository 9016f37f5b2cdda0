import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import pLimit from 'p-limit'
import { hasChartLock } from './chart.js'
import { checkChartFiles, workspaceDir } from './chart-files.js'
import type { RegistryLogin } from './ecr.js'
import { UserError, errorMessage } from './errors.js'
import { Helm, HelmCommandError } from './helm.js'
import type { Inputs } from './inputs.js'
import type { RegistryKind } from './kinds/registry-kind.js'
import { logIn, type PrivateDir } from './login.js'
import { ociReference, ociRepository, type ChartJob, type Target } from './plan.js'
import { RETRY, retrying, type RetryPolicy } from './retry.js'

export interface ChartResult {
  chart: string
  version: string
  ref: string
  digest: string
  repository: string
  registry: string
  pushed: boolean
  /** The provenance attestation stored for this chart (attest). */
  attestation?: { digest: string; url?: string }
  /** Set when this chart failed; the step fails at the end. */
  error?: string
}

/** The registry side of publishing: its kind, where charts go, the login in flight. */
export interface PublishRegistry {
  kind: RegistryKind
  target: Target
  /**
   * Settles once the registry login is done. Charts package while it is in flight; pushes, and
   * dependency builds that pull from an OCI registry, wait for it. Its failure is main's to report.
   */
  loggedIn: Promise<void>
  /** Scratch space inside the job-private directory. */
  workDir: string
}

/** How to publish, from the inputs. */
export interface PublishSettings {
  appVersion?: string
  /** Whether `version` came from the input (then `helm package --version` applies it). */
  versionOverride: boolean
  /** A version already in the registry is skipped (also one another run published meanwhile). */
  skipExisting: boolean
  maxParallel: number
  retry?: RetryPolicy
  /** Nothing outside it may go into a chart (see chart-files.ts). */
  workspace: string
  /**
   * Runs on each chart's result once it is published or skipped (attest: its provenance); what
   * it returns is the chart's result. Dependants wait for it.
   */
  afterPublish?: (result: ChartResult, log: (line: string) => void) => Promise<ChartResult>
}

/** Thrown inside a chart's work when the shared registry preparation failed (main reports it). */
class RegistryNotReady extends Error {
  constructor() {
    super('not published because the registry login failed')
  }
}

/** Collects a chart's log lines so parallel charts print as one readable group each. */
class ChartLog {
  readonly lines: string[] = []
  add = (line: string): void => {
    this.lines.push(line)
  }
}

function explainPushFailure(
  error: HelmCommandError,
  job: ChartJob,
  registry: PublishRegistry,
  attempts: number
): Error {
  const host = registry.target.host
  const where = `${host}/${job.repositoryName}`
  switch (error.kind) {
    case 'missing-repository':
      return new UserError(
        `Repository "${job.repositoryName}" does not exist in ${host}: ${registry.kind.missingRepositoryFix(job.repositoryName)}`
      )
    case 'immutable':
      return new UserError(
        `Chart ${job.meta.name} version ${job.version} already exists in ${where} and its tags are immutable: set "skip-existing: true" to skip published versions, or bump the chart version.`
      )
    case 'manifest-refused':
      return new UserError(
        `Registry ${host} refused the manifest of chart ${job.meta.name} version ${job.version} (HTTP 400; this Helm does not show the registry's reason): in ECR it means the version already exists in an immutable repository, so set "skip-existing: true" or bump the chart version; Helm 3.18 or later shows the registry's own message.`
      )
    case 'transient':
      return new UserError(
        `Registry ${host} kept failing the push of ${job.repositoryName} after ${attempts} attempts (${error.reason}): check the registry's status and the runner's network, then re-run.`
      )
    case 'auth':
      return new UserError(
        `Registry ${host} refused the push to ${job.repositoryName} (${error.reason}): ${registry.kind.pushPermissionFix}`
      )
    default:
      return error
  }
}

/** What is known of a chart's result before it is published. */
function resultBase(job: ChartJob, target: Target): ChartResult {
  return {
    chart: job.meta.name,
    version: job.version,
    ref: ociReference(target, job.meta.name, job.tag),
    digest: '',
    repository: ociRepository(target),
    registry: target.host,
    pushed: false
  }
}

/** The registry refused to (re)tag this version: an immutable tag, as far as Helm can tell. */
function isTagConflict(error: HelmCommandError): boolean {
  return error.kind === 'immutable' || error.kind === 'manifest-refused'
}

async function publishOne(
  helm: Helm,
  job: ChartJob,
  registry: PublishRegistry,
  settings: PublishSettings,
  log: ChartLog
): Promise<ChartResult> {
  const base = resultBase(job, registry.target)
  const registryReady = async (): Promise<void> => {
    await registry.loggedIn
    await registry.kind.ensureRepository(job)
  }
  let archive = job.source.path
  if (job.source.kind === 'dir') {
    if (job.meta.dependencies.some(dep => dep.repository?.startsWith('oci://'))) {
      await registryReady()
    }
    if (job.meta.dependencies.length > 0) {
      await helm.dependencyBuild(job.source.path, await hasChartLock(job.source.path))
    }
    const destination = await fs.mkdtemp(path.join(registry.workDir, `${job.meta.name}-`))
    archive = await helm.package(
      job.source.path,
      destination,
      settings.versionOverride ? job.version : undefined,
      settings.appVersion
    )
    log.add(`Packaged ${archive}`)
  }
  await registryReady()
  const policy = settings.retry ?? RETRY.push
  const transient = (error: unknown) =>
    error instanceof HelmCommandError && error.kind === 'transient'
  let failedLate = false // an attempt failed after it may already have tagged the version
  let result
  try {
    result = await retrying(
      () => helm.push(archive, ociRepository(registry.target)),
      policy,
      transient,
      (error, attempt) => {
        failedLate = true
        log.add(`Push attempt ${attempt} failed (${errorMessage(error)}); retrying`)
      }
    )
  } catch (error) {
    if (!(error instanceof HelmCommandError)) throw error
    if (isTagConflict(error) && (settings.skipExisting || failedLate)) {
      const digest = await registry.kind
        .findTag(job, { helm, loggedIn: registry.loggedIn, workDir: registry.workDir })
        .catch(() => undefined)
      if (digest && settings.skipExisting) {
        log.add(
          `${base.ref} was published meanwhile (${digest}); skipped because skip-existing is set`
        )
        return { ...base, digest, pushed: false }
      }
      if (digest) {
        // The earlier attempt's tag landed before it failed; the retry met its own version.
        log.add(`${base.ref} was tagged by an earlier attempt of this run (${digest})`)
        return { ...base, digest, pushed: true }
      }
    }
    throw explainPushFailure(error, job, registry, policy.retries + 1)
  }
  log.add(`Pushed ${base.ref} (${result.digest})`)
  return { ...base, digest: result.digest, pushed: true }
}

/** Prints a chart's collected lines as one group, titled with what happened and how long it took. */
function printGroup(job: ChartJob, result: ChartResult, log: ChartLog, started: number): void {
  const outcome = result.error
    ? result.pushed
      ? 'pushed, then failed'
      : 'failed'
    : result.pushed
      ? 'pushed'
      : 'skipped'
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  core.startGroup(
    `${job.meta.name} ${job.version} (${job.source.display}) ${outcome} in ${seconds}s`
  )
  for (const line of log.lines) core.info(line)
  core.endGroup()
}

/**
 * Publishes every chart: a chart starts once the charts it depends on are published, at most
 * `maxParallel` at a time. With skip-existing, every chart's version is looked up at once, before
 * it is packaged. A failure fails that chart (and its dependants), never the others.
 */
export async function publishCharts(
  helm: Helm,
  jobs: ChartJob[],
  registry: PublishRegistry,
  settings: PublishSettings
): Promise<ChartResult[]> {
  const limit = pLimit(settings.maxParallel)
  // Charts meet a failed login as RegistryNotReady; main reports the login failure itself, once.
  const loggedIn = registry.loggedIn.catch(() => Promise.reject(new RegistryNotReady()))
  loggedIn.catch(() => undefined)
  const charts: PublishRegistry = { ...registry, loggedIn }
  // Before Helm or the registry meets a chart: links out of the workspace, special files and
  // far file:// dependencies fail it (and no repository is created or looked up for it).
  const filesChecked = new Map(
    jobs.map(job => {
      const checked =
        job.source.kind === 'dir'
          ? checkChartFiles(job.source.path, settings.workspace, job.source.display)
          : Promise.resolve()
      checked.catch(() => undefined) // observed below
      return [job, checked]
    })
  )
  // Each kind makes each repository ready once; a chart whose files failed asks for none.
  const repositoryReady = (job: ChartJob): Promise<void> =>
    (filesChecked.get(job) as Promise<void>).then(() => registry.kind.ensureRepository(job))
  const lookup = (job: ChartJob): Promise<string | undefined> =>
    repositoryReady(job).then(() =>
      registry.kind.findTag(job, { helm, loggedIn, workDir: registry.workDir })
    )
  const done = new Map<number, Promise<ChartResult>>()
  const start = (i: number): Promise<ChartResult> => {
    const known = done.get(i)
    if (known) return known
    const job = jobs[i]
    // Repositories are made ready at once, beside the login; a failure fails the chart below.
    repositoryReady(job).catch(() => undefined)
    const existing = settings.skipExisting ? lookup(job) : Promise.resolve(undefined)
    existing.catch(() => undefined) // observed below, after the dependencies
    const promise = (async (): Promise<ChartResult> => {
      const deps = await Promise.all(job.dependsOn.map(start))
      const base = resultBase(job, registry.target)
      const log = new ChartLog()
      const started = Date.now()
      let result: ChartResult
      try {
        await filesChecked.get(job)
        const digest = await existing
        if (digest) {
          log.add(`${base.ref} already exists (${digest}); skipped because skip-existing is set`)
          result = { ...base, digest }
        } else {
          const failedDep = deps.find(d => d.error)
          if (failedDep) {
            return {
              ...base,
              error: `not published because its dependency ${failedDep.chart} failed`
            }
          }
          result = await limit(() => publishOne(helm, job, charts, settings, log))
        }
        if (settings.afterPublish) result = await settings.afterPublish(result, log.add)
      } catch (error) {
        result = { ...base, error: errorMessage(error) }
        // The login failed: main reports that once, so no group per chart.
        if (error instanceof RegistryNotReady) return result
        log.add(`Failed: ${result.error}`)
      }
      printGroup(job, result, log, started)
      return result
    })()
    done.set(i, promise)
    return promise
  }
  return Promise.all(jobs.map((_, i) => start(i)))
}

/**
 * The publish step: logs in to the registry while the charts package, then pushes each chart
 * once the login is done. A failed login is the step's one error.
 */
export async function publish(
  helm: Helm,
  jobs: ChartJob[],
  registry: { kind: RegistryKind; login: RegistryLogin; target: Target; dir: PrivateDir },
  inputs: Inputs,
  afterPublish?: PublishSettings['afterPublish']
): Promise<ChartResult[]> {
  const loggedIn = logIn(helm, registry.login, registry.dir)
  loggedIn.catch(() => undefined) // awaited below
  const publishing = publishCharts(
    helm,
    jobs,
    {
      kind: registry.kind,
      target: registry.target,
      loggedIn,
      workDir: registry.dir.root
    },
    {
      appVersion: inputs.appVersion,
      versionOverride: inputs.version !== undefined,
      skipExisting: inputs.skipExisting,
      maxParallel: inputs.maxParallel,
      workspace: workspaceDir(),
      afterPublish
    }
  )
  await loggedIn
  return publishing
}
