import * as core from '@actions/core'
import type { EcrApi, Mutability, RegistryLogin } from '../ecr.js'
import type { Inputs } from '../inputs.js'
import { makeTarget, type ChartJob, type Target } from '../plan.js'
import type { RegistryKind, RegistryKindName } from './registry-kind.js'

/**
 * What private ECR and ECR Public share: an AWS API client made once, the login it issues,
 * repositories created once each, tags looked up through the API (no login needed).
 */
export abstract class EcrRegistry implements RegistryKind {
  abstract readonly name: RegistryKindName
  abstract readonly pushPermissionFix: string
  private api?: Promise<EcrApi>
  private readonly repositories = new Map<string, Promise<void>>()

  constructor(protected readonly inputs: Inputs) {}

  /** Loads the SDK and makes the client for this kind. */
  protected abstract connect(): Promise<EcrApi>
  /** Tag mutability of created repositories. */
  protected abstract readonly mutability: Mutability
  abstract missingRepositoryFix(repositoryName: string): string

  protected client(): Promise<EcrApi> {
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
      ready = this.client()
        .then(api => api.createRepository(name, this.mutability))
        .then(created => {
          core.info(
            created
              ? `Created repository ${name} (${this.mutability})`
              : `Repository ${name} exists`
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
