import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { Input } from '../constants.js'
import { publicEcr, type PublicEcrApi } from './ecr.js'
import { UserError } from '../errors.js'
import type { Inputs } from '../config/inputs.js'
import type { EcrPublicHost } from './registry-host.js'
import { catalogFollowUp, publicRepositoryRequests } from './repository-requests.js'
import { namedInputs, repositorySettingInputs } from './repository-settings.js'
import { EcrRegistry, runFollowUps } from './ecr-base.js'
import type { ChartJob } from '../model.js'

/** README.md next to Chart.yaml, for the "about" text; a packaged .tgz chart has none here. */
async function chartReadme(job: ChartJob): Promise<string | undefined> {
  if (job.source.kind !== 'dir') return undefined
  return fs.readFile(path.join(job.source.path, 'README.md'), 'utf8').catch(() => undefined)
}

/**
 * Amazon ECR Public (public.ecr.aws): the namespace starts with the registry alias. New
 * repositories get the tags and the chart's catalog data (description, README).
 */
export class PublicEcr extends EcrRegistry<PublicEcrApi> {
  readonly name = 'ecr-public'
  readonly pushPermissionFix =
    "check that the job's role may push there (ecr-public:BatchCheckLayerAvailability, ecr-public:InitiateLayerUpload, ecr-public:UploadLayerPart, ecr-public:CompleteLayerUpload, ecr-public:PutImage)."

  constructor(
    inputs: Inputs,
    private readonly host: EcrPublicHost
  ) {
    super(inputs, `Amazon ECR Public (${host.host})`)
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
    const refused = repositorySettingInputs(inputs.repositorySettings).filter(
      name => name !== Input.RepositoryTags
    )
    if (refused.length > 0) {
      const many = refused.length > 1
      throw new UserError(
        `${namedInputs(refused)} cannot apply to Amazon ECR Public, which has no KMS keys, scanning, lifecycle policies or pull policies (its repositories are public): remove ${many ? 'them' : 'it'}; "repository-tags" works there.`
      )
    }
  }

  protected connect(): Promise<PublicEcrApi> {
    return publicEcr(this.host.host)
  }

  protected async createRepository(api: PublicEcrApi, job: ChartJob): Promise<boolean> {
    const requests = publicRepositoryRequests({
      repositoryName: job.repositoryName,
      tags: this.inputs.repositorySettings.tags,
      catalog: { description: job.meta.description, readme: await chartReadme(job) }
    })
    if (!(await api.createRepository(requests.create))) return false
    const { catalog } = requests
    if (catalog) {
      await runFollowUps(job.repositoryName, [
        { followUp: catalogFollowUp(catalog), run: () => api.putRepositoryCatalogData(catalog) }
      ])
    }
    return true
  }

  protected describeCreated(): string {
    const tags = this.inputs.repositorySettings.tags.length
    return tags > 0 ? ` (${tags} tag${tags > 1 ? 's' : ''})` : ''
  }

  /** The first namespace segment is the registry alias, not part of repository names. */
  protected repositoryPrefix(): string {
    return this.inputs.namespace.split('/').slice(1).join('/')
  }

  missingRepositoryFix(name: string): string {
    return `set "create-repository: true", or create it with "aws ecr-public create-repository --repository-name ${name} --region us-east-1".`
  }
}
