import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'

// The real core.summary (it writes to GITHUB_STEP_SUMMARY), the mock for everything else.
vi.mock('@actions/core', async () => ({
  ...(await vi.importActual<typeof import('@actions/core')>('@actions/core')),
  ...(await import('../../__fixtures__/core.js'))
}))

const { chartsJson, setOutputs, usageSnippets, verifySnippets, writeSummary } =
  await import('../../src/report/summary.js')
const { plural, shortDigest } = await import('../../src/report/html.js')
type ChartResult = import('../../src/model.js').ChartResult

const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const D1 = `sha256:${'1'.repeat(64)}`
const D2 = `sha256:${'2'.repeat(64)}`

const pushed: ChartResult = {
  chart: 'my-app',
  version: '1.2.3+build.5',
  ref: `oci://${HOST}/charts/my-app:1.2.3_build.5`,
  digest: D1,
  repository: `oci://${HOST}/charts`,
  registry: HOST,
  pushed: true
}
const skipped: ChartResult = {
  ...pushed,
  chart: 'lib',
  version: '0.1.0',
  ref: `oci://${HOST}/charts/lib:0.1.0`,
  digest: D2,
  pushed: false
}
const failed: ChartResult = {
  ...pushed,
  chart: 'broken',
  version: '0.0.1',
  ref: `oci://${HOST}/charts/broken:0.0.1`,
  digest: '',
  pushed: false,
  error: 'helm push failed: <html> & "quotes"'
}

let tmp: string
let summaryFile: string
const savedSummary = process.env.GITHUB_STEP_SUMMARY

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'summary-test-'))
  summaryFile = path.join(tmp, 'step-summary.md')
})
afterAll(async () => {
  if (savedSummary === undefined) delete process.env.GITHUB_STEP_SUMMARY
  else process.env.GITHUB_STEP_SUMMARY = savedSummary
  await fs.rm(tmp, { recursive: true, force: true })
})
beforeEach(async () => {
  core.resetCore()
  await fs.writeFile(summaryFile, '')
  process.env.GITHUB_STEP_SUMMARY = summaryFile
})

describe('chartsJson', () => {
  it('lists every chart in order, with error only when set', () => {
    expect(JSON.parse(chartsJson([pushed, skipped, failed]))).toEqual([
      {
        chart: 'my-app',
        version: '1.2.3+build.5',
        ref: `oci://${HOST}/charts/my-app:1.2.3_build.5`,
        digest: D1,
        repository: `oci://${HOST}/charts`,
        registry: HOST,
        pushed: true,
        signed: false
      },
      {
        chart: 'lib',
        version: '0.1.0',
        ref: `oci://${HOST}/charts/lib:0.1.0`,
        digest: D2,
        repository: `oci://${HOST}/charts`,
        registry: HOST,
        pushed: false,
        signed: false
      },
      {
        chart: 'broken',
        version: '0.0.1',
        ref: `oci://${HOST}/charts/broken:0.0.1`,
        digest: '',
        repository: `oci://${HOST}/charts`,
        registry: HOST,
        pushed: false,
        signed: false,
        error: 'helm push failed: <html> & "quotes"'
      }
    ])
  })

  it('is [] without charts, and one line', () => {
    expect(chartsJson([])).toBe('[]')
    expect(chartsJson([pushed, failed])).not.toContain('\n')
  })
})

describe('setOutputs', () => {
  it('describes the first chart and lists them all', () => {
    setOutputs([skipped, pushed], 'v3.18.0')
    expect(Object.fromEntries(core.setOutput.mock.calls)).toEqual({
      ref: `oci://${HOST}/charts/lib:0.1.0`,
      digest: D2,
      repository: `oci://${HOST}/charts`,
      chart: 'lib',
      version: '0.1.0',
      registry: HOST,
      pushed: 'false',
      'helm-version': 'v3.18.0',
      charts: chartsJson([skipped, pushed])
    })
    // every output action.yml declares but the attestation ones (attest only), each set once
    expect(core.setOutput).toHaveBeenCalledTimes(9)
  })

  it('sets "pushed" as the string "true"', () => {
    setOutputs([pushed], 'v4.1.4')
    expect(core.setOutput).toHaveBeenCalledWith('pushed', 'true')
  })

  it('sets only helm-version and charts without charts', () => {
    setOutputs([], 'v4.1.4')
    expect(core.setOutput.mock.calls).toEqual([
      ['helm-version', 'v4.1.4'],
      ['charts', '[]']
    ])
  })
})

describe('usageSnippets', () => {
  it('gives helm install and a Terraform helm_release', () => {
    expect(usageSnippets(pushed)).toEqual({
      helm: `helm install my-app oci://${HOST}/charts/my-app --version 1.2.3+build.5`,
      terraform: [
        'resource "helm_release" "my_app" {',
        '  name       = "my-app"',
        `  repository = "oci://${HOST}/charts"`,
        '  chart      = "my-app"',
        '  version    = "1.2.3+build.5"',
        '}'
      ].join('\n')
    })
  })

  it('makes a valid Terraform name from dots and dashes', () => {
    expect(usageSnippets({ ...pushed, chart: 'a.b-c' }).terraform).toContain(
      'resource "helm_release" "a_b_c" {'
    )
  })
})

/** The job summary writeSummary writes. */
async function render(...args: Parameters<typeof writeSummary>): Promise<string> {
  await writeSummary(...args)
  return fs.readFile(summaryFile, 'utf8')
}

describe('writeSummary', () => {
  it('closes every cell of a failed row and escapes its error onto one line', async () => {
    const html = await render(
      [{ ...failed, error: 'bad\n\n</td></table><script>x</script>' }],
      'v4.1.4'
    )
    expect(html).toContain(
      `<tr><td>broken</td><td>0.0.1</td><td><code>oci://${HOST}/charts/broken:0.0.1</code></td><td></td><td>failed: bad &lt;/td&gt;&lt;/table&gt;&lt;script&gt;x&lt;/script&gt;</td></tr>`
    )
    expect(html).not.toMatch(/<td><td>|<script>/)
    // a blank line would end the HTML block in the summary's Markdown
    expect(html.split('<h3>')[0]).not.toContain('\n\n')
  })

  it('closes the cells of a chart that failed before it had a version or reference', async () => {
    const html = await render(
      [{ ...failed, version: '', ref: '', error: 'version "1.2" is not SemVer 2' }],
      'v4.1.4'
    )
    expect(html).toContain(
      '<tr><td>broken</td><td></td><td></td><td></td><td>failed: version &quot;1.2&quot; is not SemVer 2</td></tr>'
    )
  })

  it('writes a table with one row per chart, digests shortened, and a count', async () => {
    const html = await render([failed, pushed, skipped], 'v3.18.0')
    expect(html).toContain('<h2>Helm charts published to OCI</h2>')
    expect(html).toContain(
      '<tr><th>Chart</th><th>Version</th><th>Reference</th><th>Digest</th><th>Result</th></tr>'
    )
    expect(html).toContain(
      `<tr><td>my-app</td><td>1.2.3+build.5</td><td><code>oci://${HOST}/charts/my-app:1.2.3_build.5</code></td><td><code title="${D1}">sha256:111111111111…</code></td><td>pushed</td></tr>`
    )
    expect(html).toContain(
      `<tr><td>lib</td><td>0.1.0</td><td><code>oci://${HOST}/charts/lib:0.1.0</code></td><td><code title="${D2}">sha256:222222222222…</code></td><td>skipped (already published)</td></tr>`
    )
    expect(html).toContain('failed: helm push failed: &lt;html&gt; &amp; &quot;quotes&quot;</td>')
    expect(html).not.toContain('<html>')
    expect(html).toContain('<p>3 charts: 1 failed, 1 pushed, 1 skipped · Helm v3.18.0</p>')
  })

  it('counts in the singular for one chart', async () => {
    await writeSummary([pushed], 'v4.1.4')
    expect(await fs.readFile(summaryFile, 'utf8')).toContain(
      '<p>1 chart: 1 pushed · Helm v4.1.4</p>'
    )
  })

  it('shows how to use every published or skipped chart, with its full digest', async () => {
    const html = await render([failed, pushed, skipped], 'v3.18.0')
    expect(html).toContain('<h3>Use it</h3>')
    expect(html).toContain(`<p><b>my-app 1.2.3+build.5</b>: digest <code>${D1}</code></p>`)
    expect(html).toContain(`<p><b>lib 0.1.0</b>: digest <code>${D2}</code></p>`)
    expect(html).toContain(
      `<pre lang="shell"><code>helm install my-app oci://${HOST}/charts/my-app --version 1.2.3+build.5</code></pre>`
    )
    expect(html).toContain(`helm install lib oci://${HOST}/charts/lib --version 0.1.0`)
    expect(html).toContain('resource "helm_release" "my_app"')
    expect(html).toContain('resource "helm_release" "lib"')
    expect(html).not.toContain('helm install broken')
    expect(html).not.toContain('<details>')
  })

  it("collapses each chart's usage when there are many", async () => {
    const many = ['a', 'b', 'c', 'd'].map(chart => ({ ...pushed, chart, version: '1.0.0' }))
    const html = await render(many, 'v4.1.4')
    expect(html.match(/<details><summary>[a-d] 1\.0\.0<\/summary>/g)).toHaveLength(4)
    expect(html.match(/<\/details>/g)).toHaveLength(4)
    expect(html).toContain('helm install d ')
  })

  it('shows a chart that was pushed and then failed (attestation) in Use it', async () => {
    const html = await render([{ ...pushed, error: 'attestation failed' }], 'v4.1.4')
    expect(html).toContain('<td>pushed, then failed: attestation failed</td>')
    expect(html).toContain('helm install my-app')
  })

  it('has no usage section in a dry run, and says the registry was not checked', async () => {
    const html = await render(
      [{ ...pushed, pushed: false, outcome: 'would push' }],
      'v4.1.4',
      undefined,
      {
        registryChecked: false
      }
    )
    expect(html).toContain('<h2>Dry run: Helm charts that would be published to OCI</h2>')
    expect(html).toContain('The registry was not checked (no credentials).')
    expect(html).toContain('<td>would push</td>')
    expect(html).toContain('<p>1 chart: 1 would push · Helm v4.1.4</p>')
    expect(html).not.toContain('Use it')
  })

  it('escapes HTML in chart names, versions, references, digests and the Helm version', async () => {
    const html = await render(
      [
        { ...failed, chart: '<img src=x>', version: '1&2', ref: 'oci://h/"x"' },
        { ...pushed, digest: 'sha256:<b>' }
      ],
      '<b>v3</b>'
    )
    expect(html).toContain(
      '<td>&lt;img src=x&gt;</td><td>1&amp;2</td><td><code>oci://h/&quot;x&quot;</code></td>'
    )
    expect(html).toContain('<code title="sha256:&lt;b&gt;">sha256:&lt;b&gt;</code>')
    expect(html).toContain('Helm &lt;b&gt;v3&lt;/b&gt;</p>')
    expect(html).not.toMatch(/<img|<b>[^m]/)
  })

  it('starts each code block after a blank line, so a blank line inside it stays code', async () => {
    const signer = { serverUrl: 'https://github.com', repository: 'acme/charts' }
    const html = await render([{ ...pushed, attestation: { digest: D2 } }], 'v4.1.4', signer)
    const blocks = html.split(/\n\n(?=<pre)/).slice(1)
    expect(blocks.length).toBeGreaterThanOrEqual(4)
    // outside the code blocks no blank line; inside them, only up to </pre>
    for (const block of blocks) expect(block.slice(block.indexOf('</pre>'))).not.toContain('\n\n')
    expect(html).toMatch(/--bundle-from-oci\n\ncosign verify-attestation/)
  })

  it('escapes the code blocks but keeps their lines and quotes', async () => {
    const html = await render([{ ...pushed, chart: 'a<b' }], 'v4.1.4')
    expect(html).toContain('helm install a&lt;b ')
    expect(html).toContain('resource "helm_release" "a_b" {\n  name       = "a&lt;b"')
  })

  it('has no usage section when every chart failed', async () => {
    const html = await render([failed], 'v4.1.4')
    expect(html).toContain('<table>')
    expect(html).not.toContain('Use it')
  })

  it('appends to what earlier steps wrote', async () => {
    await fs.writeFile(summaryFile, '# earlier step\n')
    await writeSummary([pushed], 'v4.1.4')
    expect(await fs.readFile(summaryFile, 'utf8')).toMatch(/^# earlier step\n<h2>/)
  })

  it('does nothing without GITHUB_STEP_SUMMARY', async () => {
    delete process.env.GITHUB_STEP_SUMMARY
    await expect(writeSummary([pushed], 'v4.1.4')).resolves.toBeUndefined()
    expect(await fs.readFile(summaryFile, 'utf8')).toBe('')
  })
})

describe('attestations', () => {
  const attestation = {
    digest: `sha256:${'a'.repeat(64)}`,
    url: 'https://github.com/acme/charts/attestations/7'
  }
  const attested: ChartResult = { ...pushed, attestation }
  const signer = { serverUrl: 'https://github.com', repository: 'acme/charts' }

  it("adds the attestation to the charts entry and the first chart's attestation outputs", () => {
    expect(JSON.parse(chartsJson([attested, skipped]))).toEqual([
      expect.objectContaining({ attestation }),
      expect.not.objectContaining({ attestation: expect.anything() })
    ])
    setOutputs([attested], 'v3.18.0')
    expect(core.setOutput).toHaveBeenCalledWith('attestation-digest', attestation.digest)
    expect(core.setOutput).toHaveBeenCalledWith('attestation-url', attestation.url)
  })

  it('sets attestation-url empty when only the registry holds the attestation', () => {
    setOutputs([{ ...pushed, attestation: { digest: attestation.digest } }], 'v3.18.0')
    expect(core.setOutput).toHaveBeenCalledWith('attestation-url', '')
  })

  it('gives gh (registry bundle), cosign, Flux and a Kyverno sketch', () => {
    const { gh, cosign, flux, kyverno } = verifySnippets(attested, signer)
    expect(gh).toBe(
      `gh attestation verify oci://${HOST}/charts/my-app:1.2.3_build.5 --repo acme/charts --bundle-from-oci`
    )
    expect(cosign).toContain('--type slsaprovenance1')
    expect(cosign).toContain(
      `--certificate-identity-regexp '^https://github\\.com/acme/charts/\\.github/workflows/'`
    )
    expect(cosign).toContain(
      '--certificate-oidc-issuer https://token.actions.githubusercontent.com'
    )
    expect(flux).toContain('provider: cosign')
    expect(flux).toContain('subject: ^https://github\\.com/acme/charts/\\.github/workflows/.*$')
    expect(cosign).toContain(`${HOST}/charts/my-app@${pushed.digest}`)
    expect(kyverno).toContain('type: https://slsa.dev/provenance/v1')
    expect(kyverno).toContain('value: https://github.com/acme/charts')
  })

  it('escapes the referrer digest and marks verified attestations', async () => {
    const hostile = { ...attested, attestation: { digest: '<b>x</b>', verified: true as const } }
    await writeSummary([hostile], 'v3.18.0', signer)
    const html = await fs.readFile(summaryFile, 'utf8')
    expect(html).toContain('<code>&lt;b&gt;x&lt;/b&gt;</code> (verified)')
    expect(html).not.toContain('<b>x</b>')
    await fs.writeFile(summaryFile, '')
  })

  it('writes a verification section per attested chart, only with a signer', async () => {
    const html = await render([attested, skipped], 'v3.18.0', signer)
    expect(html).toContain('Verify the provenance')
    expect(html).toContain('gh attestation verify')
    expect(html).toContain('kind: ClusterPolicy')
    expect(html).toContain(attestation.url)
    await fs.writeFile(summaryFile, '')
    await writeSummary([attested], 'v3.18.0')
    expect(await fs.readFile(summaryFile, 'utf8')).not.toContain('Verify the provenance')
  })
})

describe('html helpers', () => {
  it('shortens sha256 digests and leaves anything else', () => {
    expect(shortDigest(D1)).toBe('sha256:111111111111…')
    expect(shortDigest('sha256:abc')).toBe('sha256:abc')
    expect(shortDigest('')).toBe('')
  })

  it('counts in the singular and plural', () => {
    expect(plural(0, 'chart')).toBe('0 charts')
    expect(plural(1, 'chart')).toBe('1 chart')
    expect(plural(2, 'chart')).toBe('2 charts')
  })
})

describe('Helm provenance (signing-key)', () => {
  const FPR = '578CF1099B98027C754955B47315E912F0CB50C2'

  it('adds --verify --keyring and verify/keyring to the snippets of a signed chart', () => {
    const { helm, terraform } = usageSnippets({ ...pushed, signed: true })
    expect(helm).toBe(
      `helm install my-app oci://${HOST}/charts/my-app --version 1.2.3+build.5 --verify --keyring pubring.gpg`
    )
    expect(terraform).toContain(
      '  version    = "1.2.3+build.5"\n  verify     = true\n  keyring    = "${path.module}/pubring.gpg"\n}'
    )
  })

  it('sets signing-key-fingerprint and signed in every charts entry', () => {
    setOutputs([{ ...pushed, signed: true }, skipped], 'v4.1.4', FPR)
    const outputs = Object.fromEntries(core.setOutput.mock.calls)
    expect(outputs['signing-key-fingerprint']).toBe(FPR)
    expect(JSON.parse(outputs.charts as string).map((c: { signed: boolean }) => c.signed)).toEqual([
      true,
      false
    ])
  })

  it('shows the key and how to export the public keyring, with the verifying snippets', async () => {
    const html = await render(
      [skipped, { ...pushed, signed: true }],
      'v4.1.4',
      undefined,
      undefined,
      FPR
    )
    expect(html).toContain(`Signed with OpenPGP key <code>${FPR}</code>`)
    expect(html).toContain(`<code>gpg --export ${FPR} &gt; pubring.gpg</code>`)
    expect(html).toContain('--verify --keyring pubring.gpg')
    expect(html).toContain('verify     = true')
  })
})
