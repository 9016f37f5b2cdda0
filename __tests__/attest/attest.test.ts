import http from 'node:http'
import type net from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'
import { startFakeRegistry, type FakeRegistry } from '../../__fixtures__/oci-registry.js'
import { startOidcFake, WORKFLOW, type OidcFake } from '../../testbed/sigstore-world.js'

// The real getIDToken (it reads ACTIONS_ID_TOKEN_REQUEST_URL), the mock for logging.
vi.mock('@actions/core', async () => ({
  ...(await vi.importActual<typeof import('@actions/core')>('@actions/core')),
  ...(await import('../../__fixtures__/core.js'))
}))

const {
  Annotation,
  Attestor,
  SLSA_PREDICATE_TYPE,
  attestResult,
  isTransientSigstoreError,
  requireIdToken,
  subjectOfRef
} = await import('../../src/attest/attest.js')
type ChartResult = import('../../src/model.js').ChartResult

const SERVER = 'https://github.com'
const BUNDLE = {
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  verificationMaterial: {},
  dsseEnvelope: { payload: 'e30=', payloadType: 'application/vnd.in-toto+json', signatures: [] }
}

function attestor(extra: Partial<ConstructorParameters<typeof Attestor>[0]> = {}) {
  return new Attestor({
    credentials: { username: 'AWS', password: 'unused' },
    serverUrl: SERVER,
    apiUrl: 'http://127.0.0.1:9',
    repository: WORKFLOW.repository,
    registryFetch: { timeout: 5000, retry: 0 },
    ...extra
  })
}

/** A chart manifest in `repo` under `tag`, as helm push leaves it; returns its digest. */
function pushChart(registry: FakeRegistry, repo: string, tag: string): string {
  return registry.putManifest(repo, tag, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.cncf.helm.config.v1+json',
      digest: `sha256:${'c'.repeat(64)}`,
      size: 2
    },
    layers: []
  })
}

describe('requireIdToken', () => {
  it('refuses without the OIDC request variables, naming id-token: write', () => {
    expect(() => requireIdToken({})).toThrow(/permissions: id-token: write/)
    expect(() => requireIdToken({ ACTIONS_ID_TOKEN_REQUEST_URL: 'http://x' })).toThrow(
      /^Input "attest" is true but the job has no OIDC token/
    )
    expect(() =>
      requireIdToken({
        ACTIONS_ID_TOKEN_REQUEST_URL: 'http://x',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't'
      })
    ).not.toThrow()
  })
})

describe('isTransientSigstoreError', () => {
  const wrapped = (statusCode?: number) =>
    Object.assign(new Error('error creating tlog entry'), {
      cause:
        statusCode === undefined
          ? new Error('connect ECONNREFUSED')
          : Object.assign(new Error('x'), { statusCode })
    })
  it.each([
    [undefined, true],
    [500, true],
    [503, true],
    [429, true],
    [408, true],
    [400, false],
    [401, false],
    [409, false]
  ])('status %s -> %s', (status, transient) => {
    expect(isTransientSigstoreError(wrapped(status))).toBe(transient)
  })
})

describe('provenance predicate', () => {
  let oidc: OidcFake
  const saved = { ...process.env }
  beforeAll(async () => {
    oidc = await startOidcFake()
  })
  afterAll(() => oidc.stop())
  beforeEach(() => {
    Object.assign(process.env, oidc.env, { GITHUB_SERVER_URL: SERVER })
  })
  afterEach(() => {
    process.env = { ...saved }
  })

  it('says repository, workflow, commit, builder and run, from the verified OIDC token', async () => {
    const predicate = await attestor({ issuer: oidc.issuer }).provenance()
    expect(predicate.type).toBe(SLSA_PREDICATE_TYPE)
    expect(predicate.params).toEqual({
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: {
          workflow: {
            ref: WORKFLOW.ref,
            repository: `${SERVER}/${WORKFLOW.repository}`,
            path: WORKFLOW.path
          }
        },
        internalParameters: {
          github: {
            event_name: 'push',
            repository_id: '1001',
            repository_owner_id: '2002',
            runner_environment: 'github-hosted'
          }
        },
        resolvedDependencies: [
          {
            uri: `git+${SERVER}/${WORKFLOW.repository}@${WORKFLOW.ref}`,
            digest: { gitCommit: WORKFLOW.sha }
          }
        ]
      },
      runDetails: {
        builder: { id: `${SERVER}/${WORKFLOW.jobWorkflowRef}` },
        metadata: { invocationId: `${SERVER}/${WORKFLOW.repository}/actions/runs/1/attempts/1` }
      }
    })
    expect(oidc.audiences).toEqual(['nobody'])
  })

  it('is built once per run', async () => {
    const a = attestor({ issuer: oidc.issuer })
    const before = oidc.audiences.length
    await Promise.all([a.provenance(), a.provenance()])
    await a.provenance()
    expect(oidc.audiences.length - before).toBe(1)
  })
})

describe.each([
  ['the referrers API', true],
  ['the referrers tag schema', false]
])('registry referrer through %s', (_label, referrersApi) => {
  let registry: FakeRegistry
  beforeEach(async () => {
    registry = await startFakeRegistry({ referrers: referrersApi })
  })
  afterEach(() => registry.stop())

  it('pushes the bundle as a referrer of the chart digest and finds it again', async () => {
    const repo = 'charts/el-testo'
    const digest = pushChart(registry, repo, '1.0.0')
    const a = attestor({
      credentials: { username: registry.username, password: registry.password }
    })
    const name = `${registry.host}/${repo}`
    expect(await a.findAttestation(name, digest)).toBeUndefined()

    const referrer = await a.storeInRegistry(name, digest, BUNDLE, SLSA_PREDICATE_TYPE)

    const manifest = JSON.parse(registry.manifests.get(`${repo}@${referrer}`)!.body.toString())
    expect(manifest.artifactType).toBe(BUNDLE.mediaType)
    expect(manifest.subject.digest).toBe(digest)
    expect(manifest.annotations).toMatchObject({
      [Annotation.PredicateType]: SLSA_PREDICATE_TYPE,
      [Annotation.Source]: `${SERVER}/${WORKFLOW.repository}`
    })
    const tagSchema = `${repo}@${digest.replace(':', '-')}`
    const tagPuts = registry.requests.filter(
      r => r.method === 'PUT' && r.path.endsWith(`/manifests/${digest.replace(':', '-')}`)
    )
    if (referrersApi) {
      expect(tagPuts).toEqual([])
      expect(registry.tags.has(tagSchema)).toBe(false)
    } else {
      expect(tagPuts).toHaveLength(1)
      const index = JSON.parse(
        registry.manifests.get(`${repo}@${registry.tags.get(tagSchema)}`)!.body.toString()
      )
      expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual([referrer])
    }

    expect(await a.findAttestation(name, digest)).toBe(referrer)
    // Another repository's attestation of the same digest is not ours.
    const other = new Attestor({
      credentials: { username: registry.username, password: registry.password },
      serverUrl: SERVER,
      apiUrl: 'http://127.0.0.1:9',
      repository: 'someone/else'
    })
    expect(await other.findAttestation(name, digest)).toBeUndefined()
  })

  it('fails with one line that keeps the chart pushed and names the skip-existing re-run', async () => {
    const a = attestor({ credentials: { username: registry.username, password: 'wrong' } })
    const digest = pushChart(registry, 'charts/x', '1.0.0')
    await expect(
      a.storeInRegistry(`${registry.host}/charts/x`, digest, BUNDLE, SLSA_PREDICATE_TYPE)
    ).rejects.toThrow(
      /^The registry refused the attestation of .*the chart stays pushed, and a re-run with "skip-existing: true" attests it\.$/
    )
  })
})

describe('GitHub attestations API', () => {
  let server: http.Server
  let status = 201
  const calls: { path: string; authorization?: string; body: string }[] = []
  let apiUrl = ''
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = ''
      req.on('data', c => (body += c))
      req.on('end', () => {
        calls.push({ path: req.url ?? '', authorization: req.headers.authorization, body })
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify(
            status === 201 ? { id: 42 } : { message: 'Resource not accessible by integration' }
          )
        )
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    apiUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
  })
  afterAll(() => new Promise<void>(resolve => server.close(() => resolve())))
  beforeEach(() => {
    calls.length = 0
    core.resetCore()
  })

  it('stores the bundle and returns the attestation URL', async () => {
    status = 201
    const url = await attestor({ apiUrl, githubToken: 'ghs_x' }).storeInGitHub(
      BUNDLE,
      () => undefined
    )
    expect(url).toBe(`${SERVER}/${WORKFLOW.repository}/attestations/42`)
    expect(calls).toHaveLength(1)
    expect(calls[0].path).toBe(`/repos/${WORKFLOW.repository}/attestations`)
    expect(calls[0].authorization).toBe('Bearer ghs_x')
    expect(JSON.parse(calls[0].body)).toEqual({ bundle: BUNDLE })
  })

  it('warns once on a refusal and stops asking', async () => {
    status = 403
    const a = attestor({ apiUrl, githubToken: 'ghs_x' })
    expect(await a.storeInGitHub(BUNDLE, () => undefined)).toBeUndefined()
    expect(await a.storeInGitHub(BUNDLE, () => undefined)).toBeUndefined()
    expect(calls).toHaveLength(1)
    expect(core.warning).toHaveBeenCalledTimes(1)
    expect(core.warning.mock.calls[0][0]).toMatch(/HTTP 403.*permissions: attestations: write/)
  })

  it('does nothing without a token', async () => {
    expect(await attestor({ apiUrl }).storeInGitHub(BUNDLE, () => undefined)).toBeUndefined()
    expect(calls).toHaveLength(0)
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

describe('attestResult', () => {
  const D = `sha256:${'d'.repeat(64)}`
  const R = `sha256:${'r'.repeat(64)}`
  const base: ChartResult = {
    chart: 'app',
    version: '1.0.0',
    ref: 'oci://127.0.0.1:5000/charts/app:1.0.0',
    digest: D,
    repository: 'oci://127.0.0.1:5000/charts',
    registry: '127.0.0.1:5000',
    pushed: true
  }
  function fakeAttestor(found?: string | Error) {
    const calls: string[] = []
    const attestor = {
      findAttestation: async (name: string, digest: string) => {
        calls.push(`find ${name}@${digest}`)
        if (found instanceof Error) throw found
        return found
      },
      attestChart: async (name: string, digest: string) => {
        calls.push(`attest ${name}@${digest}`)
        return { digest: R, url: 'https://github.com/o/r/attestations/1' }
      }
    } as unknown as InstanceType<typeof Attestor>
    return { attestor, calls }
  }
  const lines: string[] = []
  const log = (line: string) => void lines.push(line)

  it('attests a pushed chart without looking', async () => {
    const { attestor, calls } = fakeAttestor(R)
    expect(await attestResult(base, attestor, false, log)).toEqual({
      ...base,
      attestation: { digest: R, url: 'https://github.com/o/r/attestations/1' }
    })
    expect(calls).toEqual([`attest 127.0.0.1:5000/charts/app@${D}`])
  })

  it('leaves an already attested skipped version alone, reporting its referrer', async () => {
    const { attestor, calls } = fakeAttestor(R)
    const result = await attestResult({ ...base, pushed: false }, attestor, true, log)
    expect(result.attestation).toEqual({ digest: R })
    expect(calls).toEqual([`find 127.0.0.1:5000/charts/app@${D}`])
  })

  it('attests a skipped version without one; a failed lookup attests too', async () => {
    for (const found of [undefined, new Error('HTTP 401')]) {
      const { attestor, calls } = fakeAttestor(found)
      const result = await attestResult({ ...base, pushed: false }, attestor, true, log)
      expect(result.attestation?.digest).toBe(R)
      expect(calls).toHaveLength(2)
    }
    expect(
      lines.some(l => /Could not look up existing attestations \(HTTP 401\); attesting/.test(l))
    ).toBe(true)
  })

  it('leaves failed charts and charts without a digest alone', async () => {
    const { attestor, calls } = fakeAttestor()
    const failed = { ...base, digest: '', pushed: false, error: 'push failed' }
    expect(await attestResult(failed, attestor, true, log)).toBe(failed)
    expect(calls).toEqual([])
  })

  it("turns an attestation failure into the chart's error, keeping it pushed", async () => {
    const attestor = {
      attestChart: async () => {
        throw new Error('Sigstore could not sign ...; the chart stays pushed')
      }
    } as unknown as InstanceType<typeof Attestor>
    const result = await attestResult(base, attestor, false, log)
    expect(result).toMatchObject({
      pushed: true,
      error: 'Sigstore could not sign ...; the chart stays pushed'
    })
    expect(result.attestation).toBeUndefined()
  })
})
