import * as core from '@actions/core'
import { Output } from './constants.js'
import type { ChartResult } from './publish.js'

/** The `charts` output: one object per chart, in input order. */
export function chartsJson(results: ChartResult[]): string {
  return JSON.stringify(
    results.map(({ chart, version, ref, digest, repository, registry, pushed, error }) => ({
      chart,
      version,
      ref,
      digest,
      repository,
      registry,
      pushed,
      ...(error ? { error } : {})
    }))
  )
}

/** Single-value outputs describe the first chart; `charts` has them all. */
export function setOutputs(results: ChartResult[], helmVersion: string): void {
  const first = results[0]
  if (first) {
    core.setOutput(Output.Ref, first.ref)
    core.setOutput(Output.Digest, first.digest)
    core.setOutput(Output.Repository, first.repository)
    core.setOutput(Output.Chart, first.chart)
    core.setOutput(Output.Version, first.version)
    core.setOutput(Output.Registry, first.registry)
    core.setOutput(Output.Pushed, String(first.pushed))
  }
  core.setOutput(Output.HelmVersion, helmVersion)
  core.setOutput(Output.Charts, chartsJson(results))
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c
  )
}

function resultWord(r: ChartResult): string {
  if (r.error) return `failed: ${escapeHtml(r.error)}`
  return r.pushed ? 'pushed' : 'skipped (already published)'
}

/** Copy-paste usage for a published chart: helm install and Terraform's helm_release. */
export function usageSnippets(r: ChartResult): { helm: string; terraform: string } {
  const resourceName = r.chart.replace(/[^a-zA-Z0-9_]/g, '_')
  return {
    helm: `helm install ${r.chart} ${r.repository}/${r.chart} --version ${r.version}`,
    terraform: [
      `resource "helm_release" "${resourceName}" {`,
      `  name       = "${r.chart}"`,
      `  repository = "${r.repository}"`,
      `  chart      = "${r.chart}"`,
      `  version    = "${r.version}"`,
      `}`
    ].join('\n')
  }
}

export async function writeSummary(results: ChartResult[], helmVersion: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  const ok = results.filter(r => !r.error)
  const summary = core.summary
    .addHeading('Helm charts published to OCI', 2)
    .addTable([
      [
        { data: 'Chart', header: true },
        { data: 'Version', header: true },
        { data: 'Reference', header: true },
        { data: 'Digest', header: true },
        { data: 'Result', header: true }
      ],
      ...results.map(r => [
        escapeHtml(r.chart),
        escapeHtml(r.version),
        `<code>${escapeHtml(r.ref)}</code>`,
        r.digest ? `<code>${r.digest}</code>` : '',
        resultWord(r)
      ])
    ])
    .addRaw(`<p>Helm ${escapeHtml(helmVersion)}</p>`, true)
  const example = ok[0]
  if (example) {
    const { helm, terraform } = usageSnippets(example)
    summary.addHeading('Use it', 3).addCodeBlock(helm, 'shell').addCodeBlock(terraform, 'hcl')
  }
  await summary.write()
}
