import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { startOidcFake, WORKFLOW, type OidcFake } from '../../testbed/sigstore-world.js'

// The real getIDToken (it reads ACTIONS_ID_TOKEN_REQUEST_URL), the mock for logging.
vi.mock('@actions/core', async () => ({
  ...(await vi.importActual<typeof import('@actions/core')>('@actions/core')),
  ...(await import('../../__fixtures__/core.js'))
}))

const { ProvenanceSigner, isTransientSigstoreError, requireIdToken } =
  await import('../../src/attest/signing.js')
const { SLSA_PREDICATE_TYPE } = await import('../../src/attest/policy.js')

const SERVER = 'https://github.com'

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
    const predicate = await new ProvenanceSigner(oidc.issuer).provenance()
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
    const signer = new ProvenanceSigner(oidc.issuer)
    const before = oidc.audiences.length
    await Promise.all([signer.provenance(), signer.provenance()])
    await signer.provenance()
    expect(oidc.audiences.length - before).toBe(1)
  })

  it('is built again after a failure: one chart failing does not fail the next', async () => {
    const signer = new ProvenanceSigner(oidc.issuer)
    const token = process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'wrong'
    await expect(signer.sign('r/app', `sha256:${'d'.repeat(64)}`)).rejects.toThrow(
      /^Could not build the provenance from the workflow's OIDC token \(.*\): check that the job has "permissions: id-token: write"; the chart stays pushed, and a re-run with "skip-existing: true" attests it\.$/
    )
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = token
    expect((await signer.provenance()).type).toBe(SLSA_PREDICATE_TYPE)
  })
})
