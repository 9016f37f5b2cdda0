import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { readArchive, type ArchiveEntry } from '../chart/archive.js'
import { checkChartFiles } from '../chart/chart-files.js'
import { checkPackagedChart } from '../chart/packaged.js'
import { packageChart, type PackageSettings } from '../chart/package.js'
import type { SourceEpoch } from '../chart/reproducible.js'
import { errorMessage } from '../errors.js'
import type { Helm } from '../helm/helm.js'
import { ociReference, ociRepository, type ChartJob, type ChartResult } from '../model.js'
import type { RegistryKind } from '../registry/registry-kind.js'
import { ChartLog, plural, printGroup, size } from './chart-log.js'
import { compareWithPublished, differentContent, type PullAccess } from './compare-published.js'
import { decide, looksUp, type ChartFacts, type Decision } from './decide.js'
import { ChartFailure, RegistryNotReady, chartFile, type Destination } from './destination.js'
import { publishedIsThisArchive } from './predict-manifest.js'
import { hasProvenance, provenanceNote } from '../sign/provenance.js'
import type { Once } from './once.js'
import { scheduleByDependencies } from './scheduler.js'

/** The registry as every chart sees it: its kind (lookups), and pulls through the login. */
export interface RegistryAccess extends PullAccess {
  kind: RegistryKind
  /** Whether versions are looked up (false only in a dry run without credentials). */
  checked: boolean
  /** The registry login: started as soon as a chart is going to be pushed (see registryLogin). */
  login: Once<void>
}

/** How to publish, from main. */
export interface PublishSettings {
  /** Every chart this step packages is reproducible, stamped with its source epoch. */
  packaging: PackageSettings & { sourceEpoch: (dir: string) => Promise<SourceEpoch> }
  /** A version already in the registry is skipped when it holds this run's package or content. */
  skipExisting: boolean
  maxParallel: number
  /**
   * Runs on a result whose digest is this run's own package, pushed or skipped (attest: its
   * provenance); what it returns is the chart's result. Dependants wait for it.
   */
  afterPublish?: (result: ChartResult, log: (line: string) => void) => Promise<ChartResult>
}

/** What is known of a chart's result before it is published. */
function resultBase(job: ChartJob, access: RegistryAccess): ChartResult {
  return {
    chart: job.meta.name,
    version: job.version,
    ref: ociReference(access.target, job.meta.name, job.tag),
    digest: '',
    repository: ociRepository(access.target),
    registry: access.target.host,
    pushed: false
  }
}

/** The archive's entries (when it reads) and "Packaged el-testo-0.1.0.tgz (3.1 kB, 7 files)". */
async function readPackage(
  job: ChartJob,
  archive: string
): Promise<{ entries?: ArchiveEntry[]; line: string }> {
  const data = await fs.readFile(archive)
  // A packaged input Helm cannot read fails at its push, with Helm's own words.
  const entries = await readArchive(data).catch(() => undefined)
  const files = entries ? `, ${plural(entries.filter(e => e.type === 'file').length, 'file')}` : ''
  const what = `${path.basename(archive)} (${size(data.length)}${files})`
  return {
    entries,
    line: job.source.kind === 'dir' ? `Packaged ${what}` : `Publishing the packaged chart ${what}`
  }
}

/** A chart's result, and whether it holds this run's own package (only then is it attested). */
interface Outcome {
  result: ChartResult
  own: boolean
}

/**
 * Publishes every chart through `destination`: a chart starts once the charts it depends on are
 * done, at most `maxParallel` package at a time. The version lookup and the repository happen
 * before that wait. A failure fails that chart (and its dependants), never the others.
 */
export function publishCharts(
  helm: Helm,
  jobs: ChartJob[],
  destination: Destination,
  access: RegistryAccess,
  settings: PublishSettings
): Promise<ChartResult[]> {
  const { mode } = destination
  const { workspace } = settings.packaging
  const lookup = looksUp(mode, settings.skipExisting, access.checked)

  /** Packages the chart and carries out what the decision (and the own digest) say. */
  const carryOut = async (
    job: ChartJob,
    facts: ChartFacts,
    first: Decision,
    base: ChartResult,
    log: ChartLog
  ): Promise<Outcome> => {
    const archive = await packageChart(helm, job, settings.packaging, {
      workDir: access.workDir,
      registryReady: access.loggedIn
    })
    const { entries, line } = await readPackage(job, archive)
    log.add(line)
    // This run's digest: the published one when it is the manifest Helm writes for this very
    // archive (no Helm process; not with a .prov, a layer of its own), else what a push to the
    // in-process registry gives (with the .prov beside the archive, as a real push).
    const signed = await hasProvenance(archive)
    const ownDigest = async (): Promise<string> =>
      facts.published &&
      !signed &&
      (await publishedIsThisArchive(archive, entries, facts.published))
        ? facts.published
        : destination.ownDigest(archive)
    const [, own] = await Promise.all([
      destination.inspect(job, archive, log.add),
      first.do === 'digest' ? ownDigest() : undefined
    ])
    const decision = own === undefined ? first : decide({ ...facts, own })
    const published = facts.published ?? ''
    const dryRun = mode === 'dry-run'
    const whatHappens = !dryRun
      ? 'skipped because skip-existing is set'
      : settings.skipExisting
        ? 'a real run skips it'
        : 'a real run pushes it again (skip-existing is off)'
    /** Pulls the published version: the same content is skipped (unattested), other content fails. */
    const compareContents = async (published: string): Promise<Outcome> => {
      const { differences, provenance } = await compareWithPublished(access, job, archive)
      if (differences.length > 0) throw differentContent(job, base.ref, differences)
      log.add(
        `${base.ref} already exists with the same content (${published}) in another packaging; ${whatHappens}${provenanceNote(provenance)}${settings.afterPublish ? "; not attested: its digest is not this run's package" : ''}`
      )
      const result = { ...skipped(base, published, dryRun), signed: provenance === 'same' }
      return { result, own: false }
    }
    switch (decision.do) {
      case 'push': {
        const pushed = await destination.push(job, archive, log.add)
        const { digest, own } = pushed
        // Published meanwhile by another run, under another digest: judged as if found up front.
        if (!pushed.pushed && !own) return compareContents(digest)
        return { result: { ...base, digest, pushed: pushed.pushed, signed: pushed.signed }, own }
      }
      case 'would-push': {
        const checked = access.checked ? '' : '; the registry was not checked'
        log.add(`Would push ${base.ref} (${own})${checked}`)
        const result = { ...base, digest: own ?? '', outcome: 'would push' as const, signed }
        return { result, own: false }
      }
      case 'skip-same-digest':
        log.add(
          `${base.ref} already exists (${published}), the digest of this run's package; ${whatHappens}`
        )
        // Equal digests: the published manifest holds this run's .prov too, when it signs.
        return { result: { ...skipped(base, published, dryRun), signed }, own: decision.attest }
      case 'compare-contents':
        return compareContents(published)
      default:
        throw new Error(`unexpected decision ${decision.do} after packaging`)
    }
  }

  return scheduleByDependencies<ChartResult>(jobs, settings.maxParallel, async (i, step) => {
    const job = jobs[i]
    const base = resultBase(job, access)
    const log = new ChartLog()
    const started = Date.now()
    let waited: { ms: number; for: string } | undefined
    let result: ChartResult
    try {
      let published: string | undefined
      if (!job.problem) {
        // Before Helm or the registry meets a chart: links out of the workspace, special files
        // and far file:// dependencies fail it (and no repository is made or looked up for it).
        await (job.source.kind === 'dir'
          ? checkChartFiles(job.source.path, workspace, job.source.display)
          : checkPackagedChart(job.source.path, workspace, job.source.display))
        await destination.prepare(job)
        published = lookup ? await access.kind.findTag(job) : undefined
      }
      const deps = await step.dependencies()
      if (deps.last !== undefined) waited = { ms: deps.waitedMs, for: jobs[deps.last].meta.name }
      // A dependency that failed before it reached the registry (one pushed but not attested is
      // there): its dependants cannot be packaged.
      const failedDependency = deps.results.find(d => d.error && !d.pushed)?.chart
      const facts: ChartFacts = {
        mode,
        skipExisting: settings.skipExisting,
        problem: job.problem,
        failedDependency,
        published
      }
      const decision = decide(facts)
      let outcome: Outcome
      switch (decision.do) {
        case 'fail': // its Chart.yaml
          return { ...base, error: decision.reason, file: chartFile(job, workspace) }
        case 'fail-dependency':
          return {
            ...base,
            error: `not published because its dependency ${decision.dependency} failed`
          }
        case 'skip-unverified':
          log.add(
            `${base.ref} already exists (${published}); skipped without comparing its content, because its dependency ${decision.dependency} failed`
          )
          outcome = { result: { ...base, digest: published ?? '' }, own: false }
          break
        default:
          // A push needs the login: it runs while the chart packages.
          if (decision.do === 'push') access.login.start()
          outcome = await step.slot(() => carryOut(job, facts, decision, base, log))
      }
      result = outcome.result
      if (outcome.own && settings.afterPublish) {
        result = await settings.afterPublish(result, log.add)
      }
    } catch (error) {
      result = { ...base, error: errorMessage(error) }
      if (error instanceof ChartFailure)
        Object.assign(result, { file: error.file, line: error.line })
      // The login failed: main reports that once, so no group per chart.
      if (error instanceof RegistryNotReady) return result
      log.add(`Failed: ${result.error}`)
    }
    printGroup(job, result, log, Date.now() - started - (waited?.ms ?? 0), waited)
    return result
  })
}

/** A version left as it is: a real run's skip, or what a dry run says a real run would do. */
function skipped(base: ChartResult, digest: string, dryRun: boolean): ChartResult {
  return dryRun
    ? { ...base, digest, outcome: 'already published with the same content' }
    : { ...base, digest }
}
