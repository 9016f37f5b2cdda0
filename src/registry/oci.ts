import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { RegistryLogin } from './ecr.js'
import { MissingCredentialsError, UserError } from '../errors.js'
import type { Inputs } from '../config/inputs.js'
import type { RegistryHost } from './registry-host.js'
import { namedInputs, repositorySettingInputs } from './repository-settings.js'
import type { LookupContext, RegistryKind } from './registry-kind.js'
import { makeTarget, ociRepository, type ChartJob, type Target } from '../model.js'

/**
 * The attestation referrer goes up through @sigstore/oci, which speaks HTTPS with Node's CAs
 * (plain HTTP only to localhost and 127.0.0.1) and has no setting for the TLS inputs Helm takes.
 */
export function refuseAttestationTransport(inputs: Inputs, host: string): void {
  const hostname = URL.parse(`http://${host}`)?.hostname
  const loopback = hostname === 'localhost' || hostname === '127.0.0.1'
  if (inputs.tls.plainHttp && !loopback) {
    throw new UserError(
      `Input "attest" stores attestations over HTTPS and cannot use "plain-http" for ${host}: serve the registry over HTTPS, or set "attest: false".`
    )
  }
  if (inputs.tls.insecureSkipTlsVerify) {
    throw new UserError(
      'Input "attest" stores attestations with TLS verification and cannot use "insecure-skip-tls-verify": give the registry\'s CA with "ca-file" (and NODE_EXTRA_CA_CERTS), or set "attest: false".'
    )
  }
  if (inputs.tls.caFile && !process.env.NODE_EXTRA_CA_CERTS) {
    throw new UserError(
      'Input "attest" stores attestations with its own OCI client, which does not read "ca-file": also set NODE_EXTRA_CA_CERTS to that file in the step\'s env, or set "attest: false".'
    )
  }
}

/** Any OCI registry with a username and password; no API beyond the registry protocol. */
export class OciRegistry implements RegistryKind {
  readonly name = 'oci'
  readonly pushPermissionFix = 'check that "username" may push to this repository.'

  constructor(
    private readonly inputs: Inputs,
    private readonly host: RegistryHost,
    /** Absent only in a dry run without secrets (authenticate then reports them missing). */
    private readonly credentials?: { username: string; password: string }
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
    return makeTarget(host, this.inputs.namespace, this.inputs.namespace)
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
    return `create it in the registry first, or check "namespace" (now "${this.inputs.namespace}").`
  }
}
