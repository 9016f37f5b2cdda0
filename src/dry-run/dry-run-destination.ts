import type { Helm } from '../helm/helm.js'
import type { ChartJob } from '../model.js'
import type { Destination, Pushed } from '../publish/destination.js'
import type { LocalDigests } from '../publish/local-digest.js'
import { lintInBatches, reportLint, type LintResult } from './lint.js'

/**
 * A dry run: every chart is linted (batched into few Helm processes) and pushed to the in-process
 * registry for the exact digest a real run would push; nothing is written to the registry.
 */
export class DryRunDestination implements Destination {
  readonly mode = 'dry-run'
  private readonly lint: (archive: string) => Promise<LintResult>

  constructor(
    helm: Helm,
    private readonly local: LocalDigests,
    /** Lint annotations name files relative to it. */
    private readonly workspace: string
  ) {
    this.lint = lintInBatches(helm)
  }

  async prepare(): Promise<void> {} // a dry run creates nothing

  async inspect(job: ChartJob, archive: string, log: (line: string) => void): Promise<void> {
    reportLint(job, await this.lint(archive), this.workspace, log)
  }

  ownDigest(archive: string): Promise<string> {
    return this.local.digestOf(archive)
  }

  push(): Promise<Pushed> {
    return Promise.reject(new Error('a dry run pushes nothing'))
  }

  close(): Promise<void> {
    return this.local.stop()
  }
}
