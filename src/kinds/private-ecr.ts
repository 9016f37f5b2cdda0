import { privateEcr, type EcrApi, type Mutability } from '../ecr.js'
import { UserError } from '../errors.js'
import type { Inputs } from '../inputs.js'
import type { EcrHost } from '../registry-host.js'
import { EcrRegistry } from './ecr-base.js'

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

/** A private Amazon ECR registry: the one named in "registry", or the account's own by default. */
export class PrivateEcr extends EcrRegistry {
  readonly name = 'ecr'
  readonly pushPermissionFix =
    "check that the job's role may push there (ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage, ecr:BatchGetImage)."
  protected readonly mutability: Mutability
  private readonly region: string

  constructor(
    inputs: Inputs,
    private readonly host?: EcrHost
  ) {
    super(inputs)
    this.region = regionFor(inputs, host)
    this.mutability = inputs.imageTagMutability ?? 'MUTABLE'
  }

  protected connect(): Promise<EcrApi> {
    return privateEcr(this.region, this.host)
  }

  missingRepositoryFix(name: string): string {
    return `set "create-repository: true", or create it with "aws ecr create-repository --repository-name ${name} --region ${this.region}".`
  }
}
