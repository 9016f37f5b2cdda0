import type { RegistryLogin } from './ecr.js'
import { MissingCredentialsError } from '../errors.js'
import type { UncheckedConfig } from '../config/registry-config.js'
import type { RegistryKind } from './registry-kind.js'
import { makeTarget, type Target } from '../model.js'

/**
 * A dry run with no "registry" and no region (a pull request from a fork): there is nothing to
 * log in to, so the dry run lints, packages and reports digests, and checks nothing remote.
 */
export class UncheckedRegistry implements RegistryKind {
  readonly name = 'unchecked'
  readonly pushPermissionFix = 'set "registry" (or "region") and credentials to publish.'
  private readonly namespace: string

  constructor(config: UncheckedConfig) {
    this.namespace = config.namespace
  }

  authenticate(): Promise<RegistryLogin> {
    return Promise.reject(
      new MissingCredentialsError(
        'No "registry" and no AWS region: set "registry" (or "region" and AWS credentials) to check the registry.'
      )
    )
  }

  target(host: string): Target {
    return makeTarget(host, this.namespace, this.namespace)
  }

  async ensureRepository(): Promise<void> {}

  /** Never asked: without a login the dry run checks nothing remote. */
  async findTag(): Promise<string | undefined> {
    return undefined
  }

  missingRepositoryFix(): string {
    return 'set "registry" (or "region") to the registry to publish to.'
  }
}
