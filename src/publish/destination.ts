import * as path from 'node:path'
import { UserError } from '../errors.js'
import type { ChartJob } from '../model.js'
import type { Mode } from './decide.js'

/*
 * Where packaged charts go: the registry (registry-destination.ts) or nowhere, as a dry run
 * (dry-run/dry-run-destination.ts). main chooses one; the pipeline talks only to this interface.
 */

/** What a push did. */
export interface Pushed {
  digest: string
  /** False when another run published the version meanwhile (skip-existing). */
  pushed: boolean
  /** Whether the digest is this run's own package (only then is it attested). */
  own: boolean
  /** Pushed with its Helm provenance (.prov). */
  signed: boolean
}

export interface Destination {
  readonly mode: Mode
  /** Makes the chart's repository ready to be pushed to (a dry run creates nothing). */
  prepare(job: ChartJob): Promise<void>
  /** Checks a packaged chart before anything is decided (a dry run lints it); throws to fail it. */
  inspect(job: ChartJob, archive: string, log: (line: string) => void): Promise<void>
  /** The digest a push of the archive gets, from the in-process registry (nothing leaves the job). */
  ownDigest(archive: string): Promise<string>
  /** Pushes the archive to the registry (a dry run never asks). */
  push(job: ChartJob, archive: string, log: (line: string) => void): Promise<Pushed>
  /** Stops what the destination started (the in-process registry). */
  close(): Promise<void>
}

/** A chart's failure that is in one of its files: the step's annotation points there. */
export class ChartFailure extends UserError {
  constructor(
    message: string,
    /** Relative to the workspace (see chartFile). */
    readonly file?: string,
    readonly line?: number
  ) {
    super(message)
    this.name = 'ChartFailure'
  }
}

/**
 * A file of the chart relative to the workspace, with "/" separators: `file` inside a chart
 * directory, or the chart itself (its directory's Chart.yaml, or the packaged .tgz).
 */
export function chartFile(job: ChartJob, workspace: string, file?: string): string {
  const dir = job.source.kind === 'dir'
  const absolute = dir ? path.join(job.source.path, file ?? 'Chart.yaml') : job.source.path
  return path.relative(workspace, absolute).split(path.sep).join('/')
}

/** Thrown inside a chart's work when the registry login failed (main reports that once). */
export class RegistryNotReady extends Error {
  constructor() {
    super('not published because the registry login failed')
  }
}
