import { privateEcr, type Mutability, type PrivateEcrApi } from './ecr.js'
import { UserError } from '../errors.js'
import type { Inputs } from '../config/inputs.js'
import { partitionOf, type EcrHost } from './registry-host.js'
import {
  lifecycleFollowUp,
  policyFollowUp,
  privateRepositoryRequests
} from './repository-requests.js'
import { checkKmsKeyPlacement, repositorySettingInputs } from './repository-settings.js'
import { EcrRegistry, runFollowUps, type FollowUpCall } from './ecr-base.js'
import type { ChartJob } from '../model.js'

/** The region of the ECR API: the input, the registry host, then the job's AWS environment. */
function regionFor(inputs: Inputs, host: EcrHost | undefined): string {
  const region =
    inputs.region ?? host?.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION
  if (!region) {
    throw new UserError(
      'Input "region" is empty and neither AWS_REGION nor AWS_DEFAULT_REGION is set: set "region", set "registry" to an ECR host, or give aws-actions/configure-aws-credentials an aws-region.'
    )
  }
  if (host && inputs.region && inputs.region !== host.region) {
    throw new UserError(
      `Input "region" (${inputs.region}) contradicts the region in "registry" (${host.region}): remove "region" or make them match.`
    )
  }
  return region
}

/**
 * A private Amazon ECR registry: the one named in "registry", or the account's own by default.
 * Creates repositories with every setting: tags, scanning and encryption in CreateRepository,
 * then the lifecycle policy and the pull policy.
 */
export class PrivateEcr extends EcrRegistry<PrivateEcrApi> {
  readonly name = 'ecr'
  readonly pushPermissionFix =
    "check that the job's role may push there (ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage, ecr:BatchGetImage)."
  private readonly mutability: Mutability
  private readonly region: string
  /** ARNs in policies use the registry's partition (aws, aws-us-gov, aws-cn, …). */
  private readonly partition: string

  constructor(
    inputs: Inputs,
    private readonly host?: EcrHost
  ) {
    super(
      inputs,
      host
        ? `Amazon ECR (${host.host})`
        : 'Amazon ECR (the default registry of the AWS credentials)'
    )
    this.region = regionFor(inputs, host)
    this.mutability = inputs.imageTagMutability ?? 'MUTABLE'
    // The default registry (no host) is the region's own, so its partition is the region's.
    this.partition = host?.partition ?? partitionOf(this.region)
    const kmsKey = inputs.repositorySettings.kmsKey
    // Encryption is fixed when a repository is created: pushing into an existing one would
    // silently miss it, so kms-key alone is an error (the other settings only warn).
    if (kmsKey && !inputs.createRepository) {
      throw new UserError(
        'Input "kms-key" needs "create-repository: true": encryption is fixed when a repository is created, so set create-repository, or remove kms-key and create the repository with the key yourself.'
      )
    }
    if (kmsKey) checkKmsKeyPlacement(kmsKey, this.partition, this.region)
  }

  protected connect(): Promise<PrivateEcrApi> {
    return privateEcr(this.region, this.host)
  }

  protected async createRepository(api: PrivateEcrApi, job: ChartJob): Promise<boolean> {
    const settings = this.inputs.repositorySettings
    const requests = privateRepositoryRequests({
      repositoryName: job.repositoryName,
      registryId: this.host?.accountId,
      mutability: this.mutability,
      settings,
      partition: this.partition
    })
    if (!(await api.createRepository(requests.create))) return false
    const calls: FollowUpCall[] = []
    const { lifecycle, policy } = requests
    if (lifecycle && settings.lifecyclePolicy) {
      calls.push({
        followUp: lifecycleFollowUp(lifecycle, this.region, settings.lifecyclePolicy.display),
        run: () => api.putLifecyclePolicy(lifecycle)
      })
    }
    if (policy) {
      calls.push({
        followUp: policyFollowUp(policy, this.region),
        run: () => api.setRepositoryPolicy(policy)
      })
    }
    await runFollowUps(job.repositoryName, calls)
    return true
  }

  protected describeCreated(): string {
    return ` (${[this.mutability, ...repositorySettingInputs(this.inputs.repositorySettings)].join(', ')})`
  }

  missingRepositoryFix(name: string): string {
    return `set "create-repository: true", or create it with "aws ecr create-repository --repository-name ${name} --region ${this.region}".`
  }
}
