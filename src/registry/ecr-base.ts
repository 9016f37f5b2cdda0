import * as core from '@actions/core'
import { FollowUpError, type EcrApi, type RegistryLogin } from './ecr.js'
import { UserError } from '../errors.js'
import { followUpFailure, type FollowUp } from './repository-requests.js'
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
 * What private ECR and ECR Public share: an AWS API client made once, the login it issues,
 * repositories created once each (with this kind's settings; an existing one is left as it is),
 * tags looked up through the API (no login needed).
 */
export abstract class EcrRegistry<Api extends EcrApi, Create> implements RegistryKind {
  abstract readonly name: RegistryKindName
  abstract readonly pushPermissionFix: string
  private api?: Promise<Api>
  private readonly repositories = new Map<string, Promise<void>>()

  constructor(
    /** The "namespace" input; repositoryPrefix() says which part belongs to repository names. */
    protected readonly namespace: string,
    /** With "create-repository": how ensureRepository creates each repository, once. */
    private readonly create: Create | undefined
  ) {}

  /** Loads the SDK and makes the client for this kind. */
  protected abstract connect(): Promise<Api>
  /** Creates the job's repository with this kind's settings and follow-up calls; false when it existed. */
  protected abstract createRepository(api: Api, job: ChartJob, create: Create): Promise<boolean>
  /** What a new repository got, for the log line. */
  protected abstract describeCreated(create: Create): string
  /** The repository settings inputs that are set, for the log line about an existing one. */
  protected abstract settingNames(create: Create): string[]
  abstract missingRepositoryFix(repositoryName: string): string

  protected client(): Promise<Api> {
    this.api ??= this.connect()
    return this.api
  }

  async authenticate(): Promise<RegistryLogin> {
    return (await this.client()).login()
  }

  target(host: string): Target {
    return makeTarget(host, this.namespace, this.repositoryPrefix())
  }

  /** The namespace part that belongs to repository names (all of it, unless the kind says). */
  protected repositoryPrefix(): string {
    return this.namespace
  }

  ensureRepository(job: ChartJob): Promise<void> {
    const create = this.create
    if (create === undefined) return Promise.resolve()
    const name = job.repositoryName
    let ready = this.repositories.get(name)
    if (!ready) {
      const settings = this.settingNames(create)
      ready = this.client()
        .then(api => this.createRepository(api, job, create))
        .then(created => {
          core.info(
            created
              ? `Created repository ${name}${this.describeCreated(create)}`
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
