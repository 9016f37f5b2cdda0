import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { RegistryLogin } from './ecr.js'
import { MissingCredentialsError } from '../errors.js'
import type { OciConfig } from '../config/registry-config.js'
import type { RegistryHost } from './registry-host.js'
import type { LookupContext, RegistryKind } from './registry-kind.js'
import { makeTarget, ociRepository, type ChartJob, type Target } from '../model.js'

/** Any OCI registry with a username and password; no API beyond the registry protocol. */
export class OciRegistry implements RegistryKind {
  readonly name = 'oci'
  readonly pushPermissionFix = 'check that "username" may push to this repository.'
  private readonly host: RegistryHost
  private readonly namespace: string
  /** Absent only in a dry run without secrets (authenticate then reports them missing). */
  private readonly credentials?: { username: string; password: string }

  constructor(config: OciConfig) {
    this.host = config.host
    this.namespace = config.namespace
    this.credentials = config.credentials
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

  /** No API to ask: `helm pull` through the job's login tells whether the version exists. */
  async findTag(job: ChartJob, context: LookupContext): Promise<string | undefined> {
    await context.loggedIn
    return context.helm.remoteDigest(
      ociRepository(this.target(this.host.host)),
      job.meta.name,
      job.version,
      await fs.mkdtemp(path.join(context.workDir, 'exists-'))
    )
  }

  missingRepositoryFix(): string {
    return `create it in the registry first, or check "namespace" (now "${this.namespace}").`
  }
}
