import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { Input } from '../constants.js'
import { publicEcr, type PublicEcrApi } from './ecr.js'
import type { PublicEcrConfig } from '../config/registry-config.js'
import { catalogFollowUp, publicRepositoryRequests } from './repository-requests.js'
import { EcrRegistry, runFollowUps } from './ecr-base.js'
import type { ChartJob } from '../model.js'

type Create = NonNullable<PublicEcrConfig['create']>

/** README.md next to Chart.yaml, for the "about" text; a packaged .tgz chart has none here. */
async function chartReadme(job: ChartJob): Promise<string | undefined> {
  if (job.source.kind !== 'dir') return undefined
  return fs.readFile(path.join(job.source.path, 'README.md'), 'utf8').catch(() => undefined)
}

/**
 * Amazon ECR Public (public.ecr.aws): the namespace starts with the registry alias. New
 * repositories get the tags and the chart's catalog data (description, README).
 */
export class PublicEcr extends EcrRegistry<PublicEcrApi, Create> {
  readonly name = 'ecr-public'
  readonly pushPermissionFix =
    "check that the job's role may push there (ecr-public:BatchCheckLayerAvailability, ecr-public:InitiateLayerUpload, ecr-public:UploadLayerPart, ecr-public:CompleteLayerUpload, ecr-public:PutImage)."

  constructor(private readonly config: PublicEcrConfig) {
    super(config.namespace, config.create)
  }

  protected connect(): Promise<PublicEcrApi> {
    return publicEcr(this.config.host.host)
  }

  protected async createRepository(
    api: PublicEcrApi,
    job: ChartJob,
    create: Create
  ): Promise<boolean> {
    const requests = publicRepositoryRequests({
      repositoryName: job.repositoryName,
      tags: create.tags,
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

  protected describeCreated(create: Create): string {
    const tags = create.tags.length
    return tags > 0 ? ` (${tags} tag${tags > 1 ? 's' : ''})` : ''
  }

  protected settingNames(create: Create): string[] {
    return create.tags.length > 0 ? [Input.RepositoryTags] : []
  }

  /** The first namespace segment is the registry alias, not part of repository names. */
  protected repositoryPrefix(): string {
    return this.namespace.slice(this.config.alias.length + 1)
  }

  missingRepositoryFix(name: string): string {
    return `set "create-repository: true", or create it with "aws ecr-public create-repository --repository-name ${name} --region us-east-1".`
  }
}
