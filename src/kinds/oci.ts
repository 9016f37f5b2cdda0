import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { RegistryLogin } from '../ecr.js'
import { UserError } from '../errors.js'
import type { Inputs } from '../inputs.js'
import { refuseInsecureTransport } from './ecr-base.js'
import { makeTarget, ociRepository, type ChartJob, type Target } from '../plan.js'
import type { RegistryHost } from '../registry-host.js'
import { namedInputs, repositorySettingInputs } from '../repository-settings.js'
import type { LookupContext, RegistryKind } from './registry-kind.js'

/** Any OCI registry with a username and password; no API beyond the registry protocol. */
export class OciRegistry implements RegistryKind {
  readonly name = 'oci'
  readonly pushPermissionFix = 'check that "username" may push to this repository.'
  private readonly login: RegistryLogin

  constructor(
    private readonly inputs: Inputs,
    host: RegistryHost,
    credentials: { username: string; password: string }
  ) {
    if (inputs.createRepository) {
      throw new UserError(
        'Input "create-repository" needs AWS credentials, not "username"/"password": remove one of them.'
      )
    }
    if (inputs.imageTagMutability) {
      throw new UserError(
        'Input "image-tag-mutability" applies only to ECR repositories that "create-repository" makes: remove it when using "username"/"password".'
      )
    }
    const settings = repositorySettingInputs(inputs.repositorySettings)
    if (settings.length > 0) {
      const many = settings.length > 1
      throw new UserError(
        `${namedInputs(settings)} set${many ? '' : 's'} up Amazon ECR repositories and cannot apply to an OCI registry with "username"/"password": remove ${many ? 'them' : 'it'}.`
      )
    }
    // Static credentials for an ECR host (a token from "aws ecr get-login-password") are still
    // an ECR token on an HTTPS-only registry.
    if (host.kind === 'ecr') refuseInsecureTransport(`Amazon ECR (${host.host})`, inputs.tls)
    if (host.kind === 'ecr-public') {
      refuseInsecureTransport(`Amazon ECR Public (${host.host})`, inputs.tls)
    }
    this.login = { host: host.host, ...credentials }
  }

  async authenticate(): Promise<RegistryLogin> {
    return this.login
  }

  target(host: string): Target {
    return makeTarget(host, this.inputs.namespace, this.inputs.namespace)
  }

  async ensureRepository(): Promise<void> {}

  /** No API to ask: `helm pull` through the job's login tells whether the version exists. */
  async findTag(job: ChartJob, context: LookupContext): Promise<string | undefined> {
    await context.loggedIn
    return context.helm.remoteDigest(
      ociRepository(this.target(this.login.host)),
      job.meta.name,
      job.version,
      await fs.mkdtemp(path.join(context.workDir, 'exists-'))
    )
  }

  missingRepositoryFix(): string {
    return `create it in the registry first, or check "namespace" (now "${this.inputs.namespace}").`
  }
}
