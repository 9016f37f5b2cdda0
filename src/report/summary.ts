import * as core from '@actions/core'
import { Output } from '../constants.js'
import type { ChartResult } from '../model.js'
import { cell, code, codeBlock, escapeHtml, plural, shortDigest } from './html.js'

/** What every entry of the `charts` output has, and what it has only when set. */
const CHART_FIELDS = [
  'chart',
  'version',
  'ref',
  'digest',
  'repository',
  'registry',
  'pushed'
] as const
const CHART_FIELDS_WHEN_SET = ['attestation', 'error', 'outcome'] as const

/** The `charts` output: one object per chart, in input order. */
export function chartsJson(results: ChartResult[]): string {
  return JSON.stringify(
    results.map(r =>
      Object.fromEntries([
        ...CHART_FIELDS.map(field => [field, r[field]]),
        ['signed', r.signed === true],
        ...CHART_FIELDS_WHEN_SET.filter(field => r[field]).map(field => [field, r[field]])
      ])
    )
  )
}

/** Single-value outputs describe the first chart; `charts` has them all. */
export function setOutputs(
  results: ChartResult[],
  helmVersion: string,
  signingKeyFingerprint?: string
): void {
  const first = results[0]
  if (first) {
    core.setOutput(Output.Ref, first.ref)
    core.setOutput(Output.Digest, first.digest)
    core.setOutput(Output.Repository, first.repository)
    core.setOutput(Output.Chart, first.chart)
    core.setOutput(Output.Version, first.version)
    core.setOutput(Output.Registry, first.registry)
    core.setOutput(Output.Pushed, String(first.pushed))
    if (first.attestation) {
      core.setOutput(Output.AttestationDigest, first.attestation.digest)
      core.setOutput(Output.AttestationUrl, first.attestation.url ?? '')
    }
  }
  core.setOutput(Output.HelmVersion, helmVersion)
  core.setOutput(Output.Charts, chartsJson(results))
  if (signingKeyFingerprint) core.setOutput(Output.SigningKeyFingerprint, signingKeyFingerprint)
}

function resultWord(r: ChartResult): string {
  if (r.error) return r.pushed ? 'pushed, then failed' : 'failed'
  if (r.outcome) return r.outcome
  return r.pushed ? 'pushed' : 'skipped'
}

/** `3 charts: 1 pushed, 1 skipped, 1 failed`, in the order the outcomes first occur. */
export function tally(results: ChartResult[]): string {
  const counts = new Map<string, number>()
  for (const r of results) {
    const word = resultWord(r)
    counts.set(word, (counts.get(word) ?? 0) + 1)
  }
  const parts = [...counts].map(([word, count]) => `${count} ${word}`)
  return `${plural(results.length, 'chart')}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`
}

/** The results table; every cell closed, every value from outside escaped. */
export function resultsTable(results: ChartResult[]): string {
  const head = ['Chart', 'Version', 'Reference', 'Digest', 'Result']
  const rows = results.map(r => {
    const digest = r.digest
      ? `<code title="${escapeHtml(r.digest)}">${escapeHtml(shortDigest(r.digest))}</code>`
      : ''
    const word = resultWord(r) === 'skipped' ? 'skipped (already published)' : resultWord(r)
    const result = r.error ? `${word}: ${escapeHtml(r.error)}` : escapeHtml(word)
    return [escapeHtml(r.chart), escapeHtml(r.version), code(r.ref), digest, result]
      .map(html => cell(html))
      .join('')
  })
  const headRow = head.map(text => cell(text, 'th')).join('')
  return `<table>${[headRow, ...rows].map(row => `<tr>${row}</tr>`).join('')}</table>`
}

/** More published charts than this and each chart's usage is collapsed. */
const EXPANDED_USAGE = 3

/** How consumers get the keyring the verifying snippets name (signing-key). */
function keyringNote(fingerprint: string): string {
  return `<p>Signed with OpenPGP key ${code(fingerprint)}: Helm and Terraform check each chart's provenance against its public key. Export it once, where the key lives: ${code(`gpg --export ${fingerprint} > ${KEYRING_FILE}`)} (a binary keyring).</p>`
}

/**
 * "Use it" for every chart that is in the registry: its full digest, helm install, Terraform
 * (with --verify for signed charts, and how to get the keyring).
 */
export function usageSection(results: ChartResult[], signingKeyFingerprint?: string): string {
  const usable = results.filter(r => r.digest && (r.pushed || !r.error))
  if (usable.length === 0) return ''
  const collapse = usable.length > EXPANDED_USAGE
  const parts = usable.map(r => {
    const { helm, terraform } = usageSnippets(r)
    const title = `${escapeHtml(r.chart)} ${escapeHtml(r.version)}`
    const body = [
      `<p>${collapse ? '' : `<b>${title}</b>: `}digest ${code(r.digest)}</p>`,
      codeBlock(helm, 'shell'),
      codeBlock(terraform, 'hcl')
    ].join('\n')
    return collapse ? `<details><summary>${title}</summary>\n${body}\n</details>` : body
  })
  const note = signingKeyFingerprint && usable.some(r => r.signed)
  return ['<h3>Use it</h3>', ...(note ? [keyringNote(signingKeyFingerprint)] : []), ...parts].join(
    '\n'
  )
}

/** The keyring file the snippets of a signed chart name (made by `gpg --export`). */
export const KEYRING_FILE = 'pubring.gpg'

/**
 * Copy-paste usage for a published chart: helm install and Terraform's helm_release; for a signed
 * chart, with Helm's provenance check (`--verify --keyring`, `verify = true`).
 */
export function usageSnippets(r: ChartResult): { helm: string; terraform: string } {
  const resourceName = r.chart.replace(/[^a-zA-Z0-9_]/g, '_')
  const verify = r.signed === true
  return {
    helm: `helm install ${r.chart} ${r.repository}/${r.chart} --version ${r.version}${verify ? ` --verify --keyring ${KEYRING_FILE}` : ''}`,
    terraform: [
      `resource "helm_release" "${resourceName}" {`,
      `  name       = "${r.chart}"`,
      `  repository = "${r.repository}"`,
      `  chart      = "${r.chart}"`,
      `  version    = "${r.version}"`,
      ...(verify
        ? ['  verify     = true', `  keyring    = "\${path.module}/${KEYRING_FILE}"`]
        : []),
      `}`
    ].join('\n')
  }
}

/** Who signed: the repository whose workflow ran, for the verification snippets. */
export interface Signer {
  /** `https://github.com` */
  serverUrl: string
  /** `OWNER/REPO` */
  repository: string
}

/** How to check a chart's provenance: gh, cosign (registry bundle), Flux and a Kyverno sketch. */
export function verifySnippets(
  r: ChartResult,
  signer: Signer
): { gh: string; cosign: string; flux: string; kyverno: string } {
  const image = r.ref.replace(/^oci:\/\//, '')
  const name = image.replace(/:[^:/]+$/, '')
  const identity = `${signer.serverUrl}/${signer.repository}/`
  const escaped = identity.replace(/[.]/g, '\\.')
  const workflows = `^${escaped}\\.github/workflows/`
  return {
    gh: `gh attestation verify ${r.ref} --repo ${signer.repository} --bundle-from-oci`,
    cosign: [
      'cosign verify-attestation --new-bundle-format --type slsaprovenance1 \\',
      `  --certificate-identity-regexp '${workflows}' \\`,
      '  --certificate-oidc-issuer https://token.actions.githubusercontent.com \\',
      `  ${name}@${r.digest}`
    ].join('\n'),
    flux: [
      '# Flux 2.8 or later; attestations from the public-good Sigstore instance only',
      'apiVersion: source.toolkit.fluxcd.io/v1',
      'kind: OCIRepository',
      'metadata:',
      `  name: ${r.chart.replace(/[^a-zA-Z0-9-]/g, '-').toLowerCase()}`,
      'spec:',
      '  interval: 10m',
      `  url: oci://${name}`,
      '  ref:',
      `    tag: ${r.version}`,
      '  layerSelector:',
      '    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip',
      '    operation: copy',
      '  verify:',
      '    provider: cosign',
      '    matchOIDCIdentity:',
      '      - issuer: ^https://token\\.actions\\.githubusercontent\\.com$',
      `        subject: ${workflows}.*$`
    ].join('\n'),
    kyverno: [
      'apiVersion: kyverno.io/v1',
      'kind: ClusterPolicy',
      'metadata:',
      `  name: charts-built-by-${signer.repository.replace(/[^a-zA-Z0-9-]/g, '-').toLowerCase()}`,
      'spec:',
      '  validationFailureAction: Enforce',
      '  webhookTimeoutSeconds: 30',
      '  rules:',
      '    - name: slsa-provenance',
      '      match:',
      '        any:',
      '          - resources:',
      '              kinds: [source.toolkit.fluxcd.io/v1/OCIRepository]',
      '      # The chart reference the cluster pulls (Flux: spec.url + spec.ref.tag).',
      '      imageExtractors:',
      '        OCIRepository:',
      '          - path: /spec/url',
      '            jmesPath: "trim_prefix(@, \'oci://\')"',
      '      verifyImages:',
      '        - type: SigstoreBundle',
      `          imageReferences: ["${name}*"]`,
      '          attestations:',
      '            - type: https://slsa.dev/provenance/v1',
      '              attestors:',
      '                - entries:',
      '                    - keyless:',
      '                        issuer: https://token.actions.githubusercontent.com',
      `                        subjectRegExp: "^${escaped.replace(/\\/g, '\\\\')}"`,
      '              conditions:',
      '                - all:',
      '                    - key: "{{ buildDefinition.externalParameters.workflow.repository }}"',
      '                      operator: Equals',
      `                      value: ${signer.serverUrl}/${signer.repository}`
    ].join('\n')
  }
}

export async function writeSummary(
  results: ChartResult[],
  helmVersion: string,
  signer?: Signer,
  dryRun?: { registryChecked: boolean },
  signingKeyFingerprint?: string
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  const ok = results.filter(r => !r.error)
  const summary = core.summary.addHeading(
    dryRun ? 'Dry run: Helm charts that would be published to OCI' : 'Helm charts published to OCI',
    2
  )
  if (dryRun) {
    summary.addRaw(
      `<p>This was a dry run: nothing was pushed and no repository was created. Digests are the exact ones a real run of this commit would push.${dryRun.registryChecked ? '' : ' The registry was not checked (no credentials).'}</p>`,
      true
    )
  }
  summary
    .addRaw(resultsTable(results), true)
    .addRaw(`<p>${escapeHtml(tally(results))} · Helm ${escapeHtml(helmVersion)}</p>`, true)
  const usage = dryRun ? '' : usageSection(results, signingKeyFingerprint)
  if (usage) summary.addRaw(usage, true)
  const attested = signer ? ok.filter(r => r.attestation) : []
  if (signer && attested.length > 0) {
    summary
      .addHeading('Verify the provenance', 3)
      .addRaw(
        `<p>Each chart has a signed SLSA build provenance, stored in the registry as a referrer of its digest${attested.some(r => r.attestation?.url) ? ' and in GitHub' : ''}. <code>gh</code> and <code>cosign</code> read the registry with your registry login (e.g. <code>aws ecr get-login-password | docker login ...</code>).</p>`,
        true
      )
    for (const r of attested) {
      const { gh, cosign } = verifySnippets(r, signer)
      const url = r.attestation?.url
      summary
        .addRaw(
          `<p><b>${escapeHtml(r.chart)} ${escapeHtml(r.version)}</b>: referrer ${code(r.attestation?.digest ?? '')}${r.attestation?.verified ? ' (verified)' : ''}${url ? ` (<a href="${escapeHtml(url)}">GitHub attestation</a>)` : ''}</p>`,
          true
        )
        .addRaw(codeBlock(`${gh}\n\n${cosign}`, 'shell'), true)
    }
    summary
      .addRaw(
        "<p>Flux (2.8 or later) verifies the chart before it deploys it; attestations from GitHub's private Sigstore instance (private repositories) do not verify in Flux:</p>",
        true
      )
      .addRaw(codeBlock(verifySnippets(attested[0], signer).flux, 'yaml'), true)
      .addRaw('<p>Kyverno policy sketch for clusters that pull these charts:</p>', true)
      .addRaw(codeBlock(verifySnippets(attested[0], signer).kyverno, 'yaml'), true)
  }
  await summary.write()
}
