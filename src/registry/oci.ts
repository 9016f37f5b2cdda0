import type { RegistryLogin } from './ecr.js'
import { MissingCredentialsError } from '../errors.js'
import type { OciConfig } from '../config/registry-config.js'
import type { RegistryHost } from './registry-host.js'
import type { RegistryKind } from './registry-kind.js'
import { manifestDigest } from './manifest-digest.js'
import { makeTarget, type ChartJob, type Target } from '../model.js'

/** Any OCI registry with a username and password; no API beyond the registry protocol. */
export class OciRegistry implements RegistryKind {
  readonly name = 'oci'
  readonly pushPermissionFix = 'check that "username" may push to this repository.'
  private readonly host: RegistryHost
  private readonly namespace: string
  /** Absent only in a dry run without secrets (authenticate then reports them missing). */
  private readonly credentials?: { username: string; password: string }
  private readonly tls: OciConfig['tls']

  constructor(config: OciConfig) {
    this.host = config.host
    this.namespace = config.namespace
    this.credentials = config.credentials
    this.tls = config.tls
  }

  async authenticate(): Promise<RegistryLogin> {
    if (!this.credentials) {
      throw new MissingCredentialsError(
        `No "username"/"password" for ${this.host.host}: set both (from secrets) to log in.`
      )
    }
    return { host: this.host.host, ...this.credentials }
  }

  target(host: string): Target {
    return makeTarget(host, this.namespace, this.namespace)
  }

  async ensureRepository(): Promise<void> {}

  /** No API to ask: one manifest request with the job's credentials tells the tag's digest. */
  findTag(job: ChartJob): Promise<string | undefined> {
    return manifestDigest({
      host: this.host.host,
      repository: job.repositoryName,
      tag: job.tag,
      credentials: this.credentials,
      tls: this.tls
    })
  }

  missingRepositoryFix(): string {
    return `create it in the registry first, or check "namespace" (now "${this.namespace}").`
  }
}
