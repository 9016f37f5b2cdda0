import { UserError, errorMessage } from '../errors.js'
import { type Helm } from '../helm/helm.js'
import { ociReference, ociRepository, type ChartJob, type Target } from '../model.js'
import type { RegistryKind } from '../registry/registry-kind.js'
import { RETRY, retrying, type RetryPolicy } from '../runtime/retry.js'
import type { Destination, Pushed } from './destination.js'
import type { LocalDigests } from './local-digest.js'
import { hasProvenance } from '../sign/provenance.js'
import { HelmCommandError } from '../helm/helm-output.js'

/** What the registry destination needs, from main. */
export interface RegistrySettings {
  helm: Helm
  kind: RegistryKind
  target: Target
  /** Settles once the registry login is done (rejects with RegistryNotReady when it failed). */
  loggedIn: () => Promise<void>
  skipExisting: boolean
  local: LocalDigests
  retry?: RetryPolicy
}

function explainPushFailure(
  error: HelmCommandError,
  job: ChartJob,
  settings: RegistrySettings,
  attempts: number
): Error {
  const { host } = settings.target
  const where = `${host}/${job.repositoryName}`
  switch (error.kind) {
    case 'missing-repository':
      return new UserError(
        `Repository "${job.repositoryName}" does not exist in ${host}: ${settings.kind.missingRepositoryFix(job.repositoryName)}`
      )
    case 'immutable':
      return new UserError(
        `Chart ${job.meta.name} version ${job.version} already exists in ${where} and its tags are immutable: set "skip-existing: true" to skip published versions, or bump the chart version.`
      )
    case 'manifest-refused':
      return new UserError(
        `Chart ${job.meta.name} version ${job.version}: registry ${host} refused its manifest (HTTP 400; this Helm does not show the registry's reason): in ECR it means the version already exists in an immutable repository, so set "skip-existing: true" or bump the chart version; Helm 3.18 or later shows the registry's own message.`
      )
    case 'transient':
      return new UserError(
        `Registry ${host} kept failing the push of ${job.repositoryName} after ${attempts} attempts (${error.reason}): check the registry's status and the runner's network, then re-run.`
      )
    case 'auth':
      return new UserError(
        `Registry ${host} refused the push to ${job.repositoryName} (${error.reason}): ${settings.kind.pushPermissionFix}`
      )
    default:
      return error
  }
}

/** The registry refused to (re)tag this version: an immutable tag, as far as Helm can tell. */
function isTagConflict(error: HelmCommandError): boolean {
  return error.kind === 'immutable' || error.kind === 'manifest-refused'
}

const isTransient = (error: unknown): boolean =>
  error instanceof HelmCommandError && error.kind === 'transient'

/** The real registry: repositories made ready, pushes retried, tag conflicts looked into. */
export class RegistryDestination implements Destination {
  readonly mode = 'publish'

  constructor(private readonly settings: RegistrySettings) {}

  prepare(job: ChartJob): Promise<void> {
    return this.settings.kind.ensureRepository(job)
  }

  async inspect(): Promise<void> {}

  ownDigest(archive: string): Promise<string> {
    return this.settings.local.digestOf(archive)
  }

  async push(job: ChartJob, archive: string, log: (line: string) => void): Promise<Pushed> {
    const { helm, target, kind, skipExisting } = this.settings
    const ref = ociReference(target, job.meta.name, job.tag)
    await this.settings.loggedIn()
    const policy = this.settings.retry ?? RETRY.push
    let failedLate = false // an attempt failed after it may already have tagged the version
    try {
      const { digest } = await retrying(
        () => helm.push(archive, ociRepository(target)),
        policy,
        isTransient,
        (error, attempt) => {
          failedLate = true
          log(`Push attempt ${attempt} failed (${errorMessage(error)}); retrying`)
        }
      )
      const signed = await hasProvenance(archive)
      log(`Pushed ${ref} (${digest})${signed ? ' with its provenance (.prov)' : ''}`)
      return { digest, pushed: true, own: true, signed }
    } catch (error) {
      if (!(error instanceof HelmCommandError)) throw error
      if (isTagConflict(error) && (skipExisting || failedLate)) {
        const digest = await kind.findTag(job).catch(() => undefined)
        // Attested only when the tag holds this run's own package, whoever tagged it.
        const own = async (found: string) =>
          found === (await this.ownDigest(archive).catch(() => undefined))
        if (digest && skipExisting) {
          // Not this run's package: the pipeline compares contents, as when the lookup finds it.
          const mine = await own(digest)
          log(
            `${ref} was published meanwhile (${digest})${mine ? "; skipped because skip-existing is set: it holds this run's package" : ''}`
          )
          return { digest, pushed: false, own: mine, signed: false }
        }
        // The earlier attempt's tag landed before it failed; the retry met its own version. A
        // tag holding another digest is someone else's: an existing version, not this push.
        if (digest && (await own(digest))) {
          log(`${ref} was tagged by an earlier attempt of this run (${digest})`)
          const signed = await hasProvenance(archive)
          return { digest, pushed: true, own: true, signed }
        }
      }
      throw explainPushFailure(error, job, this.settings, policy.retries + 1)
    }
  }

  close(): Promise<void> {
    return this.settings.local.stop()
  }
}
