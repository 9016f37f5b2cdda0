import http from 'node:http'
import type net from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'
import { pushChart, startFakeRegistry, type FakeRegistry } from '../../__fixtures__/oci-registry.js'

vi.mock('@actions/core', async () => import('../../__fixtures__/core.js'))

const { Annotation, Attestor, MAX_REJECTED, attestResult, subjectDigests, subjectOfRef } =
  await import('../../src/attest/attest.js')
const { ReferrersClient } = await import('../../src/attest/oci-client.js')
const { SLSA_PREDICATE_TYPE } = await import('../../src/attest/policy.js')
const { BundleVerifier, TrustedRootUnavailable } = await import('../../src/attest/verify.js')
type ChartResult = import('../../src/model.js').ChartResult

const SERVER = 'https://github.com'
const REPOSITORY = 'acme/charts'
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json'

/** A bundle-shaped document naming `digest`; `forged` ones fail the fake verifier. */
function bundleFor(digest: string, forged = false) {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'chart', digest: { sha256: digest.replace('sha256:', '') } }],
    predicateType: SLSA_PREDICATE_TYPE
  }
  return {
    mediaType: BUNDLE_TYPE,
    verificationMaterial: {},
    dsseEnvelope: {
      payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
      payloadType: 'application/vnd.in-toto+json',
      signatures: []
    },
    ...(forged ? { forged: true } : {})
  }
}

/** Verifies what bundleFor made: unforged, naming the expected digest. */
class FakeVerifier extends BundleVerifier {
  rootUnavailable = false
  override async trustFor(): Promise<never> {
    return {} as never
  }
  override async verify(bundle: unknown, expected: { digest: string }) {
    if (this.rootUnavailable) throw new TrustedRootUnavailable('no trusted root (test)')
    const ok = !(bundle as { forged?: boolean }).forged
    return ok && subjectDigests(bundle).includes(expected.digest)
      ? { ok: true as const, instance: 'public-good' as const }
      : { ok: false as const, reason: 'signed by https://github.com/evil/x/.github/workflows/a' }
  }
}

let registry: FakeRegistry
let api: http.Server
let apiUrl = ''
let apiStatus = 201
const apiCalls: { path: string; authorization?: string; body: string }[] = []
beforeAll(async () => {
  api = http.createServer((req, res) => {
    let body = ''
    req.on('data', c => (body += c))
    req.on('end', () => {
      apiCalls.push({ path: req.url ?? '', authorization: req.headers.authorization, body })
      res.writeHead(apiStatus, { 'content-type': 'application/json' })
      res.end(JSON.stringify(apiStatus === 201 ? { id: 40 + apiCalls.length } : { message: 'no' }))
    })
  })
  await new Promise<void>(resolve => api.listen(0, '127.0.0.1', resolve))
  apiUrl = `http://127.0.0.1:${(api.address() as net.AddressInfo).port}`
})
afterAll(() => new Promise<void>(resolve => api.close(() => resolve())))
beforeEach(async () => {
  registry = await startFakeRegistry()
  apiCalls.length = 0
  apiStatus = 201
  core.resetCore()
})
afterEach(async () => {
  vi.restoreAllMocks()
  await registry.stop()
})

function attestor(extra: { githubToken?: string } = { githubToken: 'ghs_x' }) {
  const verifier = new FakeVerifier()
  const a = new Attestor({
    credentials: { username: registry.username, password: registry.password },
    serverUrl: SERVER,
    apiUrl,
    repository: REPOSITORY,
    verifier,
    ...extra
  })
  const sign = vi
    .spyOn(a.signer, 'sign')
    .mockImplementation(async (_name, digest) => bundleFor(digest))
  return { a, verifier, sign }
}

const lines: string[] = []
const log = (line: string) => void lines.push(line)

function resultFor(repo: string, digest: string, pushed = true): ChartResult {
  return {
    chart: repo.split('/').pop()!,
    version: '1.0.0',
    ref: `oci://${registry.host}/${repo}:1.0.0`,
    digest,
    repository: `oci://${registry.host}/charts`,
    registry: registry.host,
    pushed
  }
}

/** The referrers the fake registry holds for `digest`, with their bundles. */
function storedReferrers(repo: string, digest: string) {
  return [...registry.manifests.entries()]
    .filter(([k]) => k.startsWith(`${repo}@`))
    .map(([, v]) => JSON.parse(v.body.toString()))
    .filter(m => m.subject?.digest === digest)
}

describe('Attestor.attestChart', () => {
  it('stores the signed bundle as a referrer of the chart digest, reads it back, and copies it to GitHub once', async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const { a } = attestor()
    const attestation = await a.attestChart(`${registry.host}/charts/app`, digest, log)

    const referrers = storedReferrers('charts/app', digest)
    expect(referrers).toHaveLength(1)
    expect(referrers[0].artifactType).toBe(BUNDLE_TYPE)
    expect(referrers[0].annotations).toMatchObject({
      [Annotation.PredicateType]: SLSA_PREDICATE_TYPE,
      [Annotation.Source]: `${SERVER}/${REPOSITORY}`
    })
    expect(attestation).toEqual({
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      url: `${SERVER}/${REPOSITORY}/attestations/41`,
      verified: true
    })
    expect(registry.manifests.has(`charts/app@${attestation.digest}`)).toBe(true)
    expect(apiCalls.map(c => [c.path, c.authorization])).toEqual([
      [`/repos/${REPOSITORY}/attestations`, 'Bearer ghs_x']
    ])
    expect(JSON.parse(apiCalls[0].body)).toEqual({ bundle: bundleFor(digest) })
  })

  it('fails in one line when the stored bundle is not the one signed (another subject)', async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const other = `sha256:${'b'.repeat(64)}`
    vi.spyOn(ReferrersClient.prototype, 'blob').mockResolvedValue(
      Buffer.from(JSON.stringify(bundleFor(other)))
    )
    const { a } = attestor()
    await expect(a.attestChart(`${registry.host}/charts/app`, digest, log)).rejects.toThrow(
      new RegExp(
        `^The attestation stored for ${digest} is not the one signed \\(referrer sha256:[0-9a-f]{64} holds a bundle whose subject is ${other}\\): check what rewrites content between the runner and the registry; the chart stays pushed, and a re-run with "skip-existing: true" attests it\\.$`
      )
    )
    expect(apiCalls).toEqual([])
  })

  it('fails in one line when the registry refuses the referrer', async () => {
    const digest = pushChart(registry, 'charts/x', '1.0.0')
    const a = new Attestor({
      credentials: { username: registry.username, password: 'wrong' },
      serverUrl: SERVER,
      apiUrl,
      repository: REPOSITORY,
      verifier: new FakeVerifier()
    })
    vi.spyOn(a.signer, 'sign').mockResolvedValue(bundleFor(digest))
    await expect(a.attestChart(`${registry.host}/charts/x`, digest, log)).rejects.toThrow(
      /^The registry refused the attestation of .*HTTP 401.*the chart stays pushed, and a re-run with "skip-existing: true" attests it\.$/
    )
  })

  it('without a trusted root: stored and read back, not marked verified, one warning per run', async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const { a, verifier } = attestor()
    verifier.rootUnavailable = true
    const first = await a.attestChart(`${registry.host}/charts/app`, digest, log)
    await a.attestChart(`${registry.host}/charts/app`, digest, log)
    expect(first.verified).toBeUndefined()
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(core.warning.mock.calls[0][0]).toMatch(
      /^Attestations could not be verified: no trusted root \(test\); published versions are attested anew/
    )
  })
})

describe('GitHub attestations API', () => {
  it('warns once on a refusal and stops asking; the registry copy stands', async () => {
    apiStatus = 403
    const { a } = attestor()
    for (const repo of ['charts/one', 'charts/two']) {
      const digest = pushChart(registry, repo, '1.0.0')
      const attestation = await a.attestChart(`${registry.host}/${repo}`, digest, log)
      expect(attestation.url).toBeUndefined()
      expect(storedReferrers(repo, digest)).toHaveLength(1)
    }
    expect(apiCalls).toHaveLength(1)
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(core.warning.mock.calls[0][0]).toMatch(/HTTP 403.*permissions: attestations: write/)
  })

  it('does nothing without a token', async () => {
    const { a } = attestor({})
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    expect((await a.attestChart(`${registry.host}/charts/app`, digest, log)).url).toBeUndefined()
    expect(apiCalls).toHaveLength(0)
  })
})

describe('attestResult with skip-existing', () => {
  /** Plants a referrer of `digest` holding `bundle`, as another workflow could. */
  async function plant(repo: string, digest: string, bundle: object): Promise<string> {
    const client = new ReferrersClient(`${registry.host}/${repo}`, registry)
    const referrer = await client.attach(digest, Buffer.from(JSON.stringify(bundle)), BUNDLE_TYPE, {
      [Annotation.PredicateType]: SLSA_PREDICATE_TYPE,
      [Annotation.Source]: `${SERVER}/${REPOSITORY}`
    })
    return referrer.digest
  }

  it('leaves a version with a verifying attestation alone: no signing, no GitHub write', async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const existing = await plant('charts/app', digest, bundleFor(digest))
    const { a, sign } = attestor()
    const result = await attestResult(resultFor('charts/app', digest, false), a, true, log)
    expect(result.attestation).toEqual({ digest: existing, verified: true })
    expect(sign).not.toHaveBeenCalled()
    expect(apiCalls).toEqual([])
  })

  it('attests anew past forged referrers (another signer; another version), naming each', async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const forged = await plant('charts/app', digest, bundleFor(digest, true))
    const replayed = await plant('charts/app', digest, bundleFor(`sha256:${'f'.repeat(64)}`))
    lines.length = 0
    const { a, sign } = attestor()
    const result = await attestResult(resultFor('charts/app', digest, false), a, true, log)
    expect(sign).toHaveBeenCalledTimes(1)
    expect(result.attestation?.digest).not.toMatch(new RegExp(`${forged}|${replayed}`))
    expect(result.attestation).toMatchObject({ verified: true, url: expect.any(String) })
    expect(lines.filter(l => l.startsWith('Referrer '))).toEqual([
      expect.stringMatching(
        new RegExp(`^Referrer (${forged}|${replayed}) is not this repository's attestation: `)
      ),
      expect.stringMatching(
        new RegExp(`^Referrer (${forged}|${replayed}) is not this repository's attestation: `)
      )
    ])
    expect(storedReferrers('charts/app', digest)).toHaveLength(3)
  })

  it('checks a bounded number of referrers that do not verify, then attests anew in one line', async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const planted = Array.from({ length: 500 }, (_, i) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${i.toString(16).padStart(64, '0')}`,
      size: 1,
      artifactType: BUNDLE_TYPE
    }))
    vi.spyOn(ReferrersClient.prototype, 'referrers').mockResolvedValue(planted)
    const manifest = vi.spyOn(ReferrersClient.prototype, 'manifest')
    lines.length = 0
    const { a, sign } = attestor()
    await attestResult(resultFor('charts/app', digest, false), a, true, log)
    expect(sign).toHaveBeenCalledTimes(1)
    expect(manifest.mock.calls.length).toBeLessThanOrEqual(MAX_REJECTED + 1)
    expect(lines.filter(l => l.startsWith('Referrer '))).toHaveLength(MAX_REJECTED)
    expect(lines).toContain(
      `${planted.length - MAX_REJECTED} more referrers of ${digest} were not checked (${MAX_REJECTED} did not verify); attesting`
    )
  })

  it('attests anew when no trusted root can be had, with one warning', async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    await plant('charts/app', digest, bundleFor(digest))
    const { a, verifier, sign } = attestor()
    verifier.rootUnavailable = true
    const result = await attestResult(resultFor('charts/app', digest, false), a, true, log)
    expect(sign).toHaveBeenCalledTimes(1)
    expect(result.attestation?.verified).toBeUndefined()
    expect(core.warning).toHaveBeenCalledTimes(1)
  })

  it('attests when the lookup fails, saying so', async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const { a, sign } = attestor()
    vi.spyOn(ReferrersClient.prototype, 'referrers').mockRejectedValue(new Error('HTTP 500'))
    lines.length = 0
    await attestResult(resultFor('charts/app', digest, false), a, true, log)
    expect(sign).toHaveBeenCalledTimes(1)
    expect(lines).toContain('Could not look up existing attestations (HTTP 500); attesting')
  })

  it('attests a pushed chart without looking; leaves failed charts and charts without a digest alone', async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const { a, sign } = attestor()
    const lookup = vi.spyOn(ReferrersClient.prototype, 'referrers')
    await attestResult(resultFor('charts/app', digest), a, false, log)
    expect(lookup).not.toHaveBeenCalled()
    const failed = { ...resultFor('charts/app', ''), pushed: false, error: 'push failed' }
    expect(await attestResult(failed, a, true, log)).toBe(failed)
    expect(await attestResult(resultFor('charts/app', digest, false), a, false, log)).toMatchObject(
      { pushed: false }
    )
    expect(sign).toHaveBeenCalledTimes(1)
  })

  it("turns a signing failure into the chart's error, keeping it pushed", async () => {
    const digest = pushChart(registry, 'charts/app', '1.0.0')
    const { a, sign } = attestor()
    sign.mockRejectedValue(new Error('Sigstore could not sign ...; the chart stays pushed'))
    const result = await attestResult(resultFor('charts/app', digest), a, false, log)
    expect(result).toMatchObject({
      pushed: true,
      error: 'Sigstore could not sign ...; the chart stays pushed'
    })
    expect(result.attestation).toBeUndefined()
  })
})

describe('subjectOfRef', () => {
  it.each([
    [
      'oci://123456789012.dkr.ecr.eu-west-2.amazonaws.com/charts/app:1.0.0',
      '123456789012.dkr.ecr.eu-west-2.amazonaws.com/charts/app'
    ],
    ['oci://127.0.0.1:5000/app:1.2.3_build.5', '127.0.0.1:5000/app'],
    ['oci://public.ecr.aws/alias/team/app:0.1.0', 'public.ecr.aws/alias/team/app']
  ])('%s -> %s', (ref, subject) => {
    expect(subjectOfRef(ref)).toBe(subject)
  })
})
