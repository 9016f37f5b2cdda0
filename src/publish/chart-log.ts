import * as core from '@actions/core'
import type { ChartJob, ChartResult } from '../model.js'

/* What the log says about charts: one group per chart, and one closing line for the run. */

/** Collects a chart's lines so that parallel charts print as one readable group each. */
export class ChartLog {
  readonly lines: string[] = []
  add = (line: string): void => {
    this.lines.push(line)
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/** "1 chart", "2 charts". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/** "3.2 kB", for the package line. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** The word for what happened to a chart, in its group's title. */
function outcomeOf(result: ChartResult): string {
  if (result.error) return result.pushed ? 'pushed, then failed' : 'failed'
  return result.outcome ?? (result.pushed ? 'pushed' : 'skipped')
}

/**
 * Prints a chart's lines as one group titled with what happened, how long it took, and how long
 * it waited for a dependency (when it did).
 */
export function printGroup(
  job: ChartJob,
  result: ChartResult,
  log: ChartLog,
  ms: number,
  waited?: { ms: number; for: string }
): void {
  const wait = waited && waited.ms >= 50 ? `, waited ${seconds(waited.ms)} for ${waited.for}` : ''
  core.startGroup(
    `${job.meta.name} ${job.version} (${job.source.display}) ${outcomeOf(result)} in ${seconds(ms)}${wait}`
  )
  for (const line of log.lines) core.info(line)
  core.endGroup()
}

/** `2 pushed, 1 skipped, 0 failed in 1.4 s` (a dry run: `2 would push, …`). */
export function closingLine(results: ChartResult[], ms: number, dryRun: boolean): string {
  const failed = results.filter(r => r.error).length
  const pushed = results.filter(r =>
    dryRun ? !r.error && r.outcome === 'would push' : r.pushed && !r.error
  ).length
  const skipped = results.length - failed - pushed
  return `${pushed} ${dryRun ? 'would push' : 'pushed'}, ${skipped} ${dryRun ? 'already published' : 'skipped'}, ${failed} failed in ${seconds(ms)}`
}

/**
 * The one line naming a failed chart: its error, with the chart's name only once (a chart whose
 * Chart.yaml could not be read has no version, and its error names the file).
 */
export function failureLine(result: ChartResult): string {
  const error = result.error ?? ''
  return error.startsWith(`Chart ${result.chart} `) || !result.version
    ? error
    : `Chart ${result.chart} ${result.version}: ${error}`
}
