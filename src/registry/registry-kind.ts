import type { RegistryLogin } from './ecr.js'
import type { ChartJob, Target } from '../model.js'

/** The kinds of registry the action knows. Only the factory switches on it. */
export type RegistryKindName = 'ecr' | 'ecr-public' | 'oci' | 'unchecked'

/**
 * Everything that differs by registry kind. One class per kind answers every question; a new
 * kind is one more class and one more line in the factory, and the compiler names each member
 * it must answer.
 */
export interface RegistryKind {
  readonly name: RegistryKindName
  /** Credentials for `helm registry login` (ECR: GetAuthorizationToken; OCI: the inputs). */
  authenticate(): Promise<RegistryLogin>
  /** Where charts go, once the registry host is known. */
  target(host: string): Target
  /**
   * Settles once the job's repository may be pushed to: created when "create-repository" is set,
   * once per repository however many charts share it. Kinds without repositories resolve at once.
   */
  ensureRepository(job: ChartJob): Promise<void>
  /**
   * The digest of the job's version in the registry, or undefined when it is not there: one API
   * call or one manifest request with the job's credentials, no login and no pull.
   */
  findTag(job: ChartJob): Promise<string | undefined>
  /** How to make a missing repository, for the push error (after "does not exist in HOST:"). */
  missingRepositoryFix(repositoryName: string): string
  /** What to check when the registry refuses a push. */
  readonly pushPermissionFix: string
}
