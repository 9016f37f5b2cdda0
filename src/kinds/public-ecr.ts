import { publicEcr, type EcrApi } from '../ecr.js'
import { UserError } from '../errors.js'
import type { Inputs } from '../inputs.js'
import type { EcrPublicHost } from '../registry-host.js'
import { EcrRegistry } from './ecr-base.js'

/** Amazon ECR Public (public.ecr.aws): the namespace starts with the registry alias. */
export class PublicEcr extends EcrRegistry {
  readonly name = 'ecr-public'
  readonly pushPermissionFix =
    "check that the job's role may push there (ecr-public:BatchCheckLayerAvailability, ecr-public:InitiateLayerUpload, ecr-public:UploadLayerPart, ecr-public:CompleteLayerUpload, ecr-public:PutImage)."
  // ECR Public repositories have no tag mutability setting.
  protected readonly mutability = 'MUTABLE'

  constructor(
    inputs: Inputs,
    private readonly host: EcrPublicHost
  ) {
    super(inputs)
    if (inputs.namespace === '') {
      throw new UserError(
        `Input "namespace" is required for ${host.host}: set it to your registry alias, e.g. "namespace: my-alias".`
      )
    }
    if (inputs.imageTagMutability) {
      throw new UserError(
        `Input "image-tag-mutability" does not apply to ${host.host}: ECR Public repositories have no tag mutability setting, so remove the input.`
      )
    }
  }

  protected connect(): Promise<EcrApi> {
    return publicEcr(this.host.host)
  }

  /** The first namespace segment is the registry alias, not part of repository names. */
  protected repositoryPrefix(): string {
    return this.inputs.namespace.split('/').slice(1).join('/')
  }

  missingRepositoryFix(name: string): string {
    return `set "create-repository: true", or create it with "aws ecr-public create-repository --repository-name ${name} --region us-east-1".`
  }
}
