import { privateEcr, type PrivateEcrApi } from './ecr.js'
import type { PrivateEcrConfig } from '../config/registry-config.js'

type Create = NonNullable<PrivateEcrConfig['create']>
import {
  lifecycleFollowUp,
  policyFollowUp,
  privateRepositoryRequests
} from './repository-requests.js'
import { repositorySettingInputs } from './repository-settings.js'
import { EcrRegistry, runFollowUps, type FollowUpCall } from './ecr-base.js'
import type { ChartJob } from '../model.js'

/**
 * A private Amazon ECR registry: the one named in "registry", or the account's own by default.
 * Creates repositories with every setting: tags, scanning and encryption in CreateRepository,
 * then the lifecycle policy and the pull policy.
 */
export class PrivateEcr extends EcrRegistry<PrivateEcrApi, Create> {
  readonly name = 'ecr'
  readonly pushPermissionFix =
    "check that the job's role may push there (ecr:BatchCheckLayerAvailability, ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage, ecr:BatchGetImage)."

  constructor(private readonly config: PrivateEcrConfig) {
    super(config.namespace, config.create)
  }

  protected connect(): Promise<PrivateEcrApi> {
    return privateEcr(this.config.region, this.config.host)
  }

  protected async createRepository(
    api: PrivateEcrApi,
    job: ChartJob,
    create: Create
  ): Promise<boolean> {
    const { host, partition, region } = this.config
    const { settings } = create
    const requests = privateRepositoryRequests({
      repositoryName: job.repositoryName,
      registryId: host?.accountId,
      mutability: create.mutability,
      settings,
      partition
    })
    if (!(await api.createRepository(requests.create))) return false
    const calls: FollowUpCall[] = []
    const { lifecycle, policy } = requests
    if (lifecycle && settings.lifecyclePolicy) {
      calls.push({
        followUp: lifecycleFollowUp(lifecycle, region, settings.lifecyclePolicy.display),
        run: () => api.putLifecyclePolicy(lifecycle)
      })
    }
    if (policy) {
      calls.push({
        followUp: policyFollowUp(policy, region),
        run: () => api.setRepositoryPolicy(policy)
      })
    }
    await runFollowUps(job.repositoryName, calls)
    return true
  }

  protected describeCreated(create: Create): string {
    return ` (${[create.mutability, ...this.settingNames(create)].join(', ')})`
  }

  protected settingNames(create: Create): string[] {
    return repositorySettingInputs(create.settings)
  }

  missingRepositoryFix(name: string): string {
    return `set "create-repository: true", or create it with "aws ecr create-repository --repository-name ${name} --region ${this.config.region}".`
  }
}
