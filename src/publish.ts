import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import pLimit from 'p-limit'
import pRetry from 'p-retry'
import { hasChartLock } from './chart.js'
import { UserError, errorMessage } from './errors.js'
import { Helm, HelmCommandError } from './helm.js'
import { ociReference, ociRepository, type ChartJob, type Target } from './plan.js'

export interface ChartResult {
  chart: string
  version: string
  ref: string
  digest: string
  repository: string
  registry: string
  pushed: boolean
  /** Set when this chart failed; the step fails at the end. */
  error?: string
}

export interface PublishOptions {
  target: Target
  appVersion?: string
  /** Whether `version` came from the input (then `helm package --version` applies it). */
  versionOverride: boolean
  /** Digest of versions that already exist, by job index (skip-existing). */
  existing: Map<number, string>
  /** Charts that failed before publishing (their repository could not be created or checked). */
  preflightErrors?: Map<number, string>
  /** Whether skip-existing is set: a version another run published meanwhile is then a skip. */
  skipExisting?: boolean
  /**
   * Looks a chart's tag up in the registry (its digest, or undefined). Used when a push is refused
   * for an existing tag: after a lost race (skip-existing), or after an attempt of this run that
   * failed late but had already tagged the version.
   */
  lookupTag?: (job: ChartJob) => Promise<string | undefined>
  maxParallel: number
  workDir: string
  /** What to check when the registry refuses a push (ECR: the IAM actions), for the error message. */
  pushPermissionFix: string
  /** Describes how to create a missing repository, for the error message. */
  missingRepositoryFix: (repositoryName: string) => string
  retry: { retries: number; minTimeoutMs: number }
  /**
   * Settles once the registry login is done. Charts package while it is in flight; pushes, and
   * dependency builds that pull from an OCI registry, wait for it. Its failure is main's to report.
   */
  loginReady?: Promise<unknown>
  /** Settles once the chart's repository exists (create-repository); its failure fails that chart. */
  repositoryReady?: (job: ChartJob) => Promise<unknown>
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
  target: Target,
  options: PublishOptions
): Error {
  const where = `${target.host}/${job.repositoryName}`
  switch (error.kind) {
    case 'missing-repository':
      return new UserError(
        `Repository "${job.repositoryName}" does not exist in ${target.host}: ${options.missingRepositoryFix(job.repositoryName)}`
      )
    case 'immutable':
      return new UserError(
        `Chart ${job.meta.name} version ${job.version} already exists in ${where} and its tags are immutable: set "skip-existing: true" to skip published versions, or bump the chart version.`
      )
    case 'manifest-refused':
      return new UserError(
        `Registry ${target.host} refused the manifest of chart ${job.meta.name} version ${job.version} (HTTP 400; this Helm does not show the registry's reason): in ECR it means the version already exists in an immutable repository, so set "skip-existing: true" or bump the chart version; Helm 3.18 or later shows the registry's own message.`
      )
    case 'transient':
      return new UserError(
        `Registry ${target.host} kept failing the push of ${job.repositoryName} after ${options.retry.retries + 1} attempts (${error.message.replace(/^helm push failed: /, '')}): check the registry's status and the runner's network, then re-run.`
      )
    case 'auth':
      return new UserError(
        `Registry ${target.host} refused the push to ${job.repositoryName} (${error.message.replace(/^helm push failed: /, '')}): ${options.pushPermissionFix}`
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
  index: number,
  options: PublishOptions,
  log: ChartLog
): Promise<ChartResult> {
  const { target } = options
  const base = resultBase(job, target)
  const existing = options.existing.get(index)
  if (existing) {
    log.add(`${base.ref} already exists (${existing}); skipped because skip-existing is set`)
    return { ...base, digest: existing, pushed: false }
  }
  const registryReady = async (): Promise<void> => {
    if (options.loginReady) {
      await options.loginReady.catch(() => Promise.reject(new RegistryNotReady()))
    }
    await options.repositoryReady?.(job)
  }
  let archive = job.source.path
  if (job.source.kind === 'dir') {
    if (job.meta.dependencies.some(dep => dep.repository?.startsWith('oci://'))) {
      await registryReady()
    }
    if (job.meta.dependencies.length > 0) {
      await helm.dependencyBuild(job.source.path, await hasChartLock(job.source.path))
    }
    const destination = await fs.mkdtemp(path.join(options.workDir, `${job.meta.name}-`))
    archive = await helm.package(
      job.source.path,
      destination,
      options.versionOverride ? job.version : undefined,
      options.appVersion
    )
    log.add(`Packaged ${archive}`)
  }
  await registryReady()
  const remote = ociRepository(target)
  let result
  let failedLate = false // an attempt failed after it may already have tagged the version
  try {
    result = await pRetry(() => helm.push(archive, remote), {
      retries: options.retry.retries,
      minTimeout: options.retry.minTimeoutMs,
      factor: 2,
      shouldRetry: ({ error }) => error instanceof HelmCommandError && error.kind === 'transient',
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (error instanceof HelmCommandError && error.kind === 'transient' && retriesLeft > 0) {
          failedLate = true
          log.add(`Push attempt ${attemptNumber} failed (${errorMessage(error)}); retrying`)
        }
      }
    })
  } catch (error) {
    if (
      error instanceof HelmCommandError &&
      isTagConflict(error) &&
      options.lookupTag &&
      (options.skipExisting || failedLate)
    ) {
      const digest = await options.lookupTag(job).catch(() => undefined)
      if (digest && options.skipExisting) {
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
    throw error instanceof HelmCommandError
      ? explainPushFailure(error, job, target, options)
      : error
  }
  log.add(`Pushed ${base.ref} (${result.digest})`)
  return { ...base, digest: result.digest, pushed: true }
}

/**
 * Publishes every chart: a chart starts once the charts it depends on are published, at most
 * `maxParallel` at a time. A failure fails that chart (and its dependants), never the others.
 */
export async function publishCharts(
  helm: Helm,
  jobs: ChartJob[],
  options: PublishOptions
): Promise<ChartResult[]> {
  const limit = pLimit(options.maxParallel)
  // Charts observe the login only when they reach it; its failure is handled (reported) by main.
  options.loginReady?.catch(() => undefined)
  const done = new Map<number, Promise<ChartResult>>()
  const start = (i: number): Promise<ChartResult> => {
    const known = done.get(i)
    if (known) return known
    const job = jobs[i]
    const promise = (async () => {
      const deps = await Promise.all(job.dependsOn.map(start))
      const failedDep = deps.find(d => d.error)
      const base = resultBase(job, options.target)
      const preflightError = options.preflightErrors?.get(i)
      if (preflightError) return { ...base, error: preflightError }
      if (failedDep && !options.existing.has(i)) {
        return { ...base, error: `not published because its dependency ${failedDep.chart} failed` }
      }
      return limit(async () => {
        const log = new ChartLog()
        const started = Date.now()
        let result: ChartResult
        try {
          result = await publishOne(helm, job, i, options, log)
        } catch (error) {
          result = { ...base, error: errorMessage(error) }
          // The login failed: main reports that once, so no group per chart.
          if (error instanceof RegistryNotReady) return result
          log.add(`Failed: ${result.error}`)
        }
        core.startGroup(
          `${job.meta.name} ${job.version} (${job.source.display}) ${result.error ? 'failed' : result.pushed ? 'pushed' : 'skipped'} in ${((Date.now() - started) / 1000).toFixed(1)}s`
        )
        for (const line of log.lines) core.info(line)
        core.endGroup()
        return result
      })
    })()
    done.set(i, promise)
    return promise
  }
  return Promise.all(jobs.map((_, i) => start(i)))
}
