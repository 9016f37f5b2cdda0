import * as core from '@actions/core'
import { type Helm } from '../helm/helm.js'
import { parseLintOutput, splitLintOutput, type LintFinding } from '../helm/lint-output.js'
import type { ChartJob } from '../model.js'
import { HelmCommandError } from '../helm/helm-output.js'
import { ChartFailure, chartFile } from '../publish/destination.js'

/** A chart's part of a `helm lint` run: its findings, or Helm's reason when it printed none. */
export interface LintResult {
  findings: LintFinding[]
  failure?: string
}

/**
 * `helm lint` for many charts in few processes: the first request runs at once; requests that
 * arrive meanwhile wait and run together in the next process (each Helm start costs ~50 ms CPU).
 */
export function lintInBatches(helm: Helm): (archive: string) => Promise<LintResult> {
  let queue: { archive: string; settle: (r: LintResult | Error) => void }[] = []
  let running = false
  const drain = async (): Promise<void> => {
    running = true
    while (queue.length > 0) {
      const batch = queue
      queue = []
      try {
        const result = await helm.lint(batch.map(b => b.archive))
        const sections = splitLintOutput(`${result.stdout}\n${result.stderr}`)
        for (const b of batch) {
          const text = sections.get(b.archive)
          b.settle(
            text === undefined
              ? { findings: [], failure: new HelmCommandError('lint', result).reason }
              : { findings: parseLintOutput(text) }
          )
        }
      } catch (error) {
        for (const b of batch) b.settle(error instanceof Error ? error : new Error(String(error)))
      }
    }
    running = false
  }
  return archive =>
    new Promise<LintResult>((resolve, reject) => {
      queue.push({ archive, settle: r => (r instanceof Error ? reject(r) : resolve(r)) })
      if (!running) void drain()
    })
}

/**
 * Turns a chart's lint findings into annotations on its files (`::warning file=…,line=…::`);
 * errors (or a lint that failed without findings) fail the chart in one line, annotated on the
 * first error's file and line (`::error file=…,line=…::`); further errors are annotations too.
 */
export function reportLint(
  job: ChartJob,
  { findings, failure }: LintResult,
  workspace: string,
  log: (line: string) => void
): void {
  const title = `${job.meta.name} ${job.version}`
  const annotate = (finding: LintFinding) => ({
    title,
    file: chartFile(job, workspace, finding.file),
    ...(finding.line ? { startLine: finding.line } : {}),
    ...(finding.column ? { startColumn: finding.column } : {})
  })
  const warnings = findings.filter(f => f.severity === 'warning')
  const errors = findings.filter(f => f.severity === 'error')
  for (const w of warnings) core.warning(`helm lint: ${w.message}`, annotate(w))
  for (const e of errors.slice(1)) core.error(`helm lint: ${e.message}`, annotate(e))
  if (!failure && errors.length === 0) {
    log(`helm lint: ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`)
    return
  }
  const first = errors[0]
  const file = first ? chartFile(job, workspace, first.file) : undefined
  const where = file ? `${file}${first?.line ? `:${first.line}` : ''}: ` : ''
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''
  throw new ChartFailure(
    `Chart ${job.meta.name} ${job.version} fails helm lint: ${where}${first?.message ?? failure}${more}: fix the chart (run "helm lint" on it locally).`,
    file,
    first?.line
  )
}
