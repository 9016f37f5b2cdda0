import * as core from '@actions/core'
import { FollowUpError, type EcrApi, type RegistryLogin } from './ecr.js'
import { UserError } from '../errors.js'
import type { Inputs, TlsOptions } from '../config/inputs.js'
import { followUpFailure, type FollowUp } from './repository-requests.js'
import { repositorySettingInputs } from './repository-settings.js'
import { makeTarget, type ChartJob, type Target } from '../model.js'
import type { RegistryKind, RegistryKindName } from './registry-kind.js'

/** A call to make once CreateRepository succeeded, and how to make it by hand. */
export interface FollowUpCall {
  followUp: FollowUp
  run: () => Promise<void>
}

/**
 * Runs the follow-up calls side by side. Any that failed make one line: the IAM action, that
 * the repository exists, and how to finish by hand.
 */
export async function runFollowUps(repositoryName: string, calls: FollowUpCall[]): Promise<void> {
  const outcomes = await Promise.allSettled(calls.map(c => c.run()))
  const failures = outcomes.flatMap((outcome, i) => {
    if (outcome.status === 'fulfilled') return []
    const error = outcome.reason as unknown
    if (!(error instanceof FollowUpError)) throw error
    return [{ followUp: calls[i].followUp, reason: error.reason, denied: error.denied }]
  })
  if (failures.length > 0) throw new UserError(followUpFailure(repositoryName, failures))
}

/**
 * Amazon ECR and ECR Public speak HTTPS with publicly trusted certificates, so plain HTTP or an
 * unverified TLS connection could only expose the 12-hour registry token. `registry` names the
 * registry in the message. Every kind that talks to an AWS registry calls it in its constructor,
 * before any AWS call.
 */
export function refuseInsecureTransport(registry: string, tls: TlsOptions): void {
  if (tls.plainHttp) {
    throw new UserError(
      `Input "plain-http" is refused for ${registry}: ECR speaks HTTPS only, and plain HTTP would expose its 12-hour registry token; remove "plain-http".`
    )
  }
  if (tls.insecureSkipTlsVerify) {
    throw new UserError(
      `Input "insecure-skip-tls-verify" is refused for ${registry}: an unverified connection would expose its 12-hour registry token; remove it, and behind a TLS-inspecting proxy give Helm the proxy's CA with "ca-file" (or SSL_CERT_FILE).`
    )
  }
}

/**
 * What private ECR and ECR Public share: an AWS API client made once, the login it issues,
 * repositories created once each (with this kind's settings; an existing one is left as it is),
 * tags looked up through the API (no login needed).
 */
export abstract class EcrRegistry<Api extends EcrApi> implements RegistryKind {
  abstract readonly name: RegistryKindName
  abstract readonly pushPermissionFix: string
  private api?: Promise<Api>
  private readonly repositories = new Map<string, Promise<void>>()

  /** `registry` names the registry in messages, e.g. "Amazon ECR (HOST)". */
  constructor(
    protected readonly inputs: Inputs,
    registry: string
  ) {
    refuseInsecureTransport(registry, inputs.tls)
  }

  /** Loads the SDK and makes the client for this kind. */
  protected abstract connect(): Promise<Api>
  /** Creates the job's repository with this kind's settings and follow-up calls; false when it existed. */
  protected abstract createRepository(api: Api, job: ChartJob): Promise<boolean>
  /** What a new repository got, for the log line. */
  protected abstract describeCreated(): string
  abstract missingRepositoryFix(repositoryName: string): string

  protected client(): Promise<Api> {
    this.api ??= this.connect()
    return this.api
  }

  async authenticate(): Promise<RegistryLogin> {
    return (await this.client()).login()
  }

  target(host: string): Target {
    return makeTarget(host, this.inputs.namespace, this.repositoryPrefix())
  }

  /** The namespace part that belongs to repository names (all of it, unless the kind says). */
  protected repositoryPrefix(): string {
    return this.inputs.namespace
  }

  ensureRepository(job: ChartJob): Promise<void> {
    if (!this.inputs.createRepository) return Promise.resolve()
    const name = job.repositoryName
    let ready = this.repositories.get(name)
    if (!ready) {
      const settings = repositorySettingInputs(this.inputs.repositorySettings)
      ready = this.client()
        .then(api => this.createRepository(api, job))
        .then(created => {
          core.info(
            created
              ? `Created repository ${name}${this.describeCreated()}`
              : `Repository ${name} exists; left as it is${settings.length > 0 ? ` (${settings.join(', ')} apply only to repositories this step creates)` : ''}`
          )
        })
      this.repositories.set(name, ready)
    }
    return ready
  }

  async findTag(job: ChartJob): Promise<string | undefined> {
    return (await this.client()).findTag(job.repositoryName, job.tag)
  }
}
