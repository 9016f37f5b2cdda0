import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import pLimit from 'p-limit'
import { checkChartFiles } from '../chart/chart-files.js'
import { packageChart, type PackageSettings } from '../chart/package.js'
import { checkPackagedChart } from '../chart/packaged.js'
import { workspaceDir } from '../runtime/paths.js'
import type { RegistryLogin } from '../registry/ecr.js'
import { UserError, errorMessage } from '../errors.js'
import { Helm, HelmCommandError } from '../helm/helm.js'
import type { Config } from '../config/config.js'
import type { RegistryKind } from '../registry/registry-kind.js'
import { logIn } from '../registry/login.js'
import type { PrivateDir } from '../runtime/private-dir.js'
import { RETRY, retrying, type RetryPolicy } from '../runtime/retry.js'
import { describeDifferences, diffArchives, type ArchiveDifference } from '../chart/compare.js'
import { parseLintOutput, splitLintOutput, type LintFinding } from '../helm/lint-output.js'
import { startLocalRegistry } from '../dry-run/local-registry.js'
import {
  ociReference,
  ociRepository,
  type ChartJob,
  type Target,
  type ChartResult
} from '../model.js'
import { sourceEpochResolver } from '../chart/reproducible.js'
import {
  comparePublishedProvenance,
  hasProvenance,
  provenanceNote,
  type PublishedProvenance
} from '../sign/provenance.js'

/** How a dry run runs: the local registry that yields exact digests, and what it may check. */
export interface DryRunOptions {
  /** `oci://127.0.0.1:PORT[/NAMESPACE]` of the in-process registry (see local-registry.ts). */
  localRemote: string
  /** Whether credentials exist, so the registry is checked (existing versions, content). */
  registryChecked: boolean
  /** `helm lint` of a packaged chart (batched: see lintInBatches). */
  lint: (archive: string) => Promise<LintResult>
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
  packaging: PackageSettings
  /** A version already in the registry is skipped (also one another run published meanwhile). */
  skipExisting: boolean
  maxParallel: number
  retry?: RetryPolicy
  /**
   * Runs on each chart's result once it is published or skipped (attest: its provenance); what
   * it returns is the chart's result. Dependants wait for it.
   */
  afterPublish?: (result: ChartResult, log: (line: string) => void) => Promise<ChartResult>
  /** Set for a dry run: nothing is written to the registry. */
  dryRun?: DryRunOptions
}

/** A promise whose work starts on first use (then/catch/finally/await) or on start(). */
export interface LazyPromise<T> extends Promise<T> {
  readonly started: boolean
  start(): LazyPromise<T>
}

export function lazyPromise<T>(work: () => Promise<T>): LazyPromise<T> {
  let running: Promise<T> | undefined
  const run = (): Promise<T> => {
    if (!running) {
      running = work()
      running.catch(() => undefined) // its users observe the failure
    }
    return running
  }
  const lazy: LazyPromise<T> = {
    then: (onFulfilled, onRejected) => run().then(onFulfilled, onRejected),
    catch: onRejected => run().catch(onRejected),
    finally: onFinally => run().finally(onFinally),
    get started() {
      return running !== undefined
    },
    start: () => {
      run()
      return lazy
    },
    [Symbol.toStringTag]: 'Promise'
  }
  return lazy
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
  log: ChartLog,
  existing?: string
): Promise<ChartResult> {
  const base = resultBase(job, registry.target)
  const registryReady = async (): Promise<void> => {
    await registry.loggedIn
    if (!settings.dryRun) await registry.kind.ensureRepository(job) // a dry run creates nothing
  }
  const archive = await packageChart(helm, job, settings.packaging, {
    workDir: registry.workDir,
    registryReady
  })
  if (job.source.kind === 'dir') log.add(`Packaged ${archive}`)
  if (settings.dryRun) {
    return dryRunOne(
      helm,
      job,
      archive,
      existing,
      registry,
      { ...settings, dryRun: settings.dryRun },
      log
    )
  }
  if (existing) return skipIfSameContent(helm, job, archive, existing, registry, log)
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
        return { ...base, digest, pushed: true, signed: await hasProvenance(archive) }
      }
    }
    throw explainPushFailure(error, job, registry, policy.retries + 1)
  }
  const signed = await hasProvenance(archive)
  log.add(`Pushed ${base.ref} (${result.digest})${signed ? ' with its provenance (.prov)' : ''}`)
  return { ...base, digest: result.digest, pushed: true, signed }
}

/** The one-line failure for a version that exists with other content. */
function differentContent(job: ChartJob, ref: string, differences: ArchiveDifference[]): UserError {
  return new UserError(
    `Chart ${job.meta.name} version ${job.version} is already published (${ref}) with different content (${describeDifferences(differences)}): bump the chart version to publish this change.`
  )
}

/**
 * Pulls the published version through the job's login and compares it with the new archive
 * (and, when this run signs, its provenance with the published one).
 */
async function compareWithPublished(
  helm: Helm,
  job: ChartJob,
  archive: string,
  registry: PublishRegistry
): Promise<{ differences: ArchiveDifference[]; provenance?: PublishedProvenance }> {
  await registry.loggedIn
  const dir = await fs.mkdtemp(path.join(registry.workDir, 'published-'))
  try {
    const signing = await hasProvenance(archive)
    const remote = ociRepository(registry.target)
    const pulled = await helm.pull(remote, job.meta.name, job.version, dir, {
      provenance: signing
    })
    if (!pulled) return { differences: [] } // removed meanwhile: nothing to contradict
    return {
      differences: await diffArchives(
        await fs.readFile(pulled.archive),
        await fs.readFile(archive),
        job.meta.name
      ),
      provenance: signing ? await comparePublishedProvenance(archive, pulled.provenance) : undefined
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** Content-aware skip-existing: the same content is skipped with the published digest. */
async function skipIfSameContent(
  helm: Helm,
  job: ChartJob,
  archive: string,
  existing: string,
  registry: PublishRegistry,
  log: ChartLog
): Promise<ChartResult> {
  const base = resultBase(job, registry.target)
  const { differences, provenance } = await compareWithPublished(helm, job, archive, registry)
  if (differences.length > 0) throw differentContent(job, base.ref, differences)
  log.add(
    `${base.ref} already exists with the same content (${existing}); skipped because skip-existing is set${provenanceNote(provenance)}`
  )
  return { ...base, digest: existing, signed: provenance === 'same' }
}

/** A chart's part of a `helm lint` run: its findings, or Helm's reason when it printed none. */
interface LintResult {
  findings: LintFinding[]
  failure?: string
}

/**
 * `helm lint` for many charts in few processes: the first request runs at once; requests that
 * arrive meanwhile wait and run together in the next process (each Helm start costs ~50 ms CPU).
 */
export function lintInBatches(helm: Helm): (archive: string) => Promise<LintResult> {
  let queue: { archive: string; settle: (r: LintResult | Error) => void }[] = []
  let running = false
  const drain = async (): Promise<void> => {
    running = true
    while (queue.length > 0) {
      const batch = queue
      queue = []
      try {
        const result = await helm.lint(batch.map(b => b.archive))
        const sections = splitLintOutput(`${result.stdout}\n${result.stderr}`)
        for (const b of batch) {
          const text = sections.get(b.archive)
          b.settle(
            text === undefined
              ? { findings: [], failure: new HelmCommandError('lint', result).reason }
              : { findings: parseLintOutput(text) }
          )
        }
      } catch (error) {
        for (const b of batch) b.settle(error instanceof Error ? error : new Error(String(error)))
      }
    }
    running = false
  }
  return archive =>
    new Promise<LintResult>((resolve, reject) => {
      queue.push({ archive, settle: r => (r instanceof Error ? reject(r) : resolve(r)) })
      if (!running) void drain()
    })
}

/** Lints the packaged chart: warnings become annotations on the chart's files; errors fail it. */
async function lintChart(
  job: ChartJob,
  linted: Promise<LintResult>,
  workspace: string,
  log: ChartLog
): Promise<void> {
  const { findings, failure } = await linted
  const fileOf = (file?: string): string =>
    path
      .relative(
        workspace,
        job.source.kind === 'dir' && file ? path.join(job.source.path, file) : job.source.path
      )
      .split(path.sep)
      .join('/')
  const warnings = findings.filter(f => f.severity === 'warning')
  for (const warning of warnings) {
    core.warning(`helm lint: ${warning.message}`, {
      title: `${job.meta.name} ${job.version}`,
      file: fileOf(warning.file),
      ...(warning.line ? { startLine: warning.line } : {}),
      ...(warning.column ? { startColumn: warning.column } : {})
    })
  }
  const errors = findings.filter(f => f.severity === 'error')
  if (!failure && errors.length === 0) {
    log.add(`helm lint: ${warnings.length} warning(s)`)
    return
  }
  const first = errors[0]
  const where = first?.file ? `${fileOf(first.file)}${first.line ? `:${first.line}` : ''}: ` : ''
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''
  const message = first?.message ?? failure
  throw new UserError(
    `Chart ${job.meta.name} ${job.version} fails helm lint: ${where}${message}${more}: fix the chart (run "helm lint" on it locally).`
  )
}

/**
 * A dry run of one chart: lint, push to the in-process registry for the exact digest, then (with
 * credentials) compare with what the registry holds. Nothing is written to the registry.
 */
async function dryRunOne(
  helm: Helm,
  job: ChartJob,
  archive: string,
  existing: string | undefined,
  registry: PublishRegistry,
  settings: PublishSettings & { dryRun: DryRunOptions },
  log: ChartLog
): Promise<ChartResult> {
  const { dryRun } = settings
  const base = resultBase(job, registry.target)
  // Lint and the local push (for the digest) run side by side; a lint error still fails the chart.
  const linted = dryRun.lint(archive)
  linted.catch(() => undefined)
  const pushed = helm.push(archive, dryRun.localRemote, true)
  pushed.catch(() => undefined)
  await lintChart(job, linted, settings.packaging.workspace, log)
  const { digest } = await pushed
  const signed = await hasProvenance(archive)
  if (!existing) {
    const checked = dryRun.registryChecked ? '' : '; the registry was not checked'
    log.add(`Would push ${base.ref} (${digest})${checked}`)
    return { ...base, digest, outcome: 'would push', signed }
  }
  // The same digest (provenance included) needs no pull; another one may still be the same
  // content (older packaging, no or other provenance).
  let provenance: PublishedProvenance | undefined = signed ? 'same' : undefined
  if (existing !== digest) {
    const compared = await compareWithPublished(helm, job, archive, registry)
    if (compared.differences.length > 0) {
      throw differentContent(job, base.ref, compared.differences)
    }
    provenance = compared.provenance
  }
  log.add(
    `${base.ref} is already published with the same content (${existing})${provenanceNote(provenance)}`
  )
  return {
    ...base,
    digest: existing,
    outcome: 'already published with the same content',
    signed: provenance === 'same'
  }
}

/** Prints a chart's collected lines as one group, titled with what happened and how long it took. */
function printGroup(job: ChartJob, result: ChartResult, log: ChartLog, started: number): void {
  const outcome = result.error
    ? result.pushed
      ? 'pushed, then failed'
      : 'failed'
    : (result.outcome ?? (result.pushed ? 'pushed' : 'skipped'))
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
  // Lazy, so a dry run whose login nobody needs never starts it (see publish()). A login already
  // under way is observed here: charts meet its failure as RegistryNotReady; main reports it.
  if (!('started' in registry.loggedIn)) registry.loggedIn.catch(() => undefined)
  const loggedIn = lazyPromise(() =>
    registry.loggedIn.catch(() => Promise.reject(new RegistryNotReady()))
  )
  const charts: PublishRegistry = { ...registry, loggedIn }
  // Before Helm or the registry meets a chart: links out of the workspace, special files and
  // far file:// dependencies fail it (and no repository is created or looked up for it).
  const filesChecked = new Map(
    jobs.map(job => {
      const checked: Promise<unknown> =
        job.source.kind === 'dir'
          ? checkChartFiles(job.source.path, settings.packaging.workspace, job.source.display)
          : checkPackagedChart(job.source.path, settings.packaging.workspace, job.source.display)
      checked.catch(() => undefined) // observed below
      return [job, checked]
    })
  )
  // Each kind makes each repository ready once; a chart whose files failed asks for none.
  const repositoryReady = (job: ChartJob): Promise<void> =>
    (filesChecked.get(job) as Promise<void>).then(() =>
      settings.dryRun ? undefined : registry.kind.ensureRepository(job)
    ) // a dry run creates nothing
  const lookup = (job: ChartJob): Promise<string | undefined> =>
    repositoryReady(job).then(() =>
      registry.kind.findTag(job, { helm, loggedIn, workDir: registry.workDir })
    )
  // A dry run looks every version up (when it may); skip-existing does too.
  const looksUp = settings.dryRun ? settings.dryRun.registryChecked : settings.skipExisting
  const done = new Map<number, Promise<ChartResult>>()
  const start = (i: number): Promise<ChartResult> => {
    const known = done.get(i)
    if (known) return known
    const job = jobs[i]
    // Repositories are made ready at once, beside the login; a failure fails the chart below.
    repositoryReady(job).catch(() => undefined)
    const existing = looksUp ? lookup(job) : Promise.resolve(undefined)
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
        // A dependency that failed before it reached the registry (one pushed but not attested
        // is there): its dependants cannot be packaged.
        const failedDep = deps.find(d => d.error && !d.pushed)
        if (digest && failedDep) {
          log.add(
            `${base.ref} already exists (${digest}); skipped without comparing its content, because its dependency ${failedDep.chart} failed`
          )
          result = { ...base, digest }
        } else if (digest && !settings.packaging.sourceEpoch && !settings.dryRun) {
          // Without reproducible archives, the tag alone decides.
          log.add(`${base.ref} already exists (${digest}); skipped because skip-existing is set`)
          result = { ...base, digest }
        } else if (digest) {
          // Content-aware: package, then compare with what is published.
          result = await limit(() => publishOne(helm, job, charts, settings, log, digest))
        } else if (failedDep) {
          return {
            ...base,
            error: `not published because its dependency ${failedDep.chart} failed`
          }
        } else {
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
 * once the login is done. A failed login is the step's one error. A dry run pushes to an
 * in-process registry instead; without a login (no credentials) it checks nothing remote.
 */
export async function publish(
  helm: Helm,
  jobs: ChartJob[],
  registry: { kind: RegistryKind; login?: RegistryLogin; target: Target; dir: PrivateDir },
  inputs: Config,
  hooks: Pick<PublishSettings, 'afterPublish'> & Pick<PackageSettings, 'sourceEpoch' | 'sign'> = {}
): Promise<ChartResult[]> {
  const { afterPublish, sourceEpoch = sourceEpochResolver(), sign } = hooks
  const login = registry.login
  // A dry run logs in only when something needs it (a pull to compare contents, an OCI lookup or
  // dependency): ECR lookups go through the API.
  const loggedIn = !login
    ? lazyPromise(() => Promise.resolve())
    : inputs.mode === 'dry-run'
      ? lazyPromise(() => logIn(helm, login, registry.dir))
      : lazyPromise(() => logIn(helm, login, registry.dir)).start()
  const local = inputs.mode === 'dry-run' ? await startLocalRegistry() : undefined
  try {
    const namespace = registry.target.namespace ? `/${registry.target.namespace}` : ''
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
        packaging: {
          workspace: workspaceDir(),
          appVersion: inputs.appVersion,
          versionOverride: inputs.version !== undefined,
          sourceEpoch,
          sign
        },
        skipExisting: inputs.skipExisting,
        maxParallel: inputs.maxParallel,
        afterPublish,
        dryRun: local && {
          localRemote: `oci://${local.host}${namespace}`,
          registryChecked: login !== undefined,
          lint: lintInBatches(helm)
        }
      }
    )
    const results = await publishing
    // A failed login is the step's one error (a dry run's login may have started late, or never).
    if (loggedIn.started) await loggedIn
    return results
  } finally {
    await local?.stop()
  }
}
