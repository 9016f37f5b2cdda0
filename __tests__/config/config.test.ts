/**
 * The checked configuration: every rule between inputs, applied by config.ts before any network
 * call, and the discriminated result (a registry slice per kind, the mode, optional features).
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeEach, describe, expect, it, test, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'
import { actionInputDefaults } from '../../testbed/runner.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { readConfig, rejectKnownHelmBugs } = await import('../../src/config/config.js')
const { describeRegistry } = await import('../../src/config/registry-config.js')
const { UserError } = await import('../../src/errors.js')

const DEFAULTS = actionInputDefaults()
const ECR = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const OIDC = { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://x', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' }
const KEY =
  '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxcLYBGabc\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----\n'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'config-test-'))
const ca = path.join(tmp, 'ca.pem')
fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n')
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
beforeEach(() => core.resetCore())

/** The configuration for `values` over action.yml's defaults, with only `env` as the job's environment. */
function configFor(values: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const all: Record<string, string> = { ...DEFAULTS, ...values }
  return readConfig(name => all[name], tmp, env)
}

function refusal(values: Record<string, string>, env: NodeJS.ProcessEnv = {}): string {
  try {
    configFor(values, env)
  } catch (error) {
    expect(error).toBeInstanceOf(UserError)
    return (error as Error).message
  }
  throw new Error('no refusal')
}

describe('the registry slice holds only what its kind needs', () => {
  it('private ECR: region and partition (from the host, or the region), no credentials', () => {
    expect(
      configFor({ registry: '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com' }).registry
    ).toMatchObject({ kind: 'ecr', region: 'us-gov-west-1', partition: 'aws-us-gov' })
    const ecr = configFor({ namespace: 'charts' }, { AWS_DEFAULT_REGION: 'cn-north-1' }).registry
    expect(ecr).toEqual({
      kind: 'ecr',
      host: undefined,
      region: 'cn-north-1',
      partition: 'aws-cn',
      namespace: 'charts',
      tls: { plainHttp: false, insecureSkipTlsVerify: false, caFile: undefined },
      create: undefined
    })
  })

  it('private ECR with create-repository: the mutability (MUTABLE by default) and the settings', () => {
    const { registry } = configFor({ registry: ECR, 'create-repository': 'true' })
    expect(registry.kind === 'ecr' && registry.create).toEqual({
      mutability: 'MUTABLE',
      settings: expect.objectContaining({ tags: [], scanOnPush: false })
    })
  })

  it('ECR Public: the alias', () => {
    expect(
      configFor({ registry: 'public.ecr.aws', namespace: 'my-alias/charts' }).registry
    ).toMatchObject({
      kind: 'ecr-public',
      alias: 'my-alias',
      namespace: 'my-alias/charts',
      create: undefined
    })
  })

  it('OCI: credentials and TLS options as given', () => {
    const { registry } = configFor({
      registry: 'registry.internal:5000',
      username: 'u',
      password: 'p',
      'plain-http': 'true',
      'ca-file': ca
    })
    expect(registry).toEqual({
      kind: 'oci',
      host: { kind: 'oci', host: 'registry.internal:5000' },
      namespace: '',
      tls: { plainHttp: true, insecureSkipTlsVerify: false, caFile: ca },
      credentials: { username: 'u', password: 'p' }
    })
  })

  it('describes where charts go', () => {
    expect(describeRegistry(configFor({ registry: ECR }).registry)).toBe(`oci://${ECR}`)
    expect(describeRegistry(configFor({}, { AWS_REGION: 'eu-west-2' }).registry)).toBe(
      'the default Amazon ECR registry'
    )
    expect(describeRegistry(configFor({ 'dry-run': 'true' }).registry)).toMatch(/^no registry/)
  })
})

describe('a dry run with no registry, no region and no credentials (a fork)', () => {
  it('checks nothing remote instead of asking for a region', () => {
    const config = configFor({ 'dry-run': 'true', namespace: 'charts' })
    expect(config.mode).toBe('dry-run')
    expect(config.registry).toMatchObject({ kind: 'unchecked', namespace: 'charts' })
    expect(config.registry.host).toBeUndefined()
  })

  it('still refuses what a real run of the same workflow would refuse', () => {
    expect(refusal({ 'dry-run': 'true', 'plain-http': 'true' })).toMatch(
      /^Input "plain-http" is refused for Amazon ECR/
    )
    expect(refusal({ 'dry-run': 'true', 'kms-key': 'alias/x' })).toMatch(
      /^Input "kms-key" needs "create-repository: true"/
    )
  })

  it('a real run still asks for the region', () => {
    expect(refusal({})).toMatch(/^Input "region" is empty and neither AWS_REGION/)
  })
})

describe('credentials', () => {
  test.each<[string, Record<string, string>, string]>([
    [
      'username without password',
      { registry: 'r.example.com', username: 'u' },
      'Input "username" is set but "password" is empty: set both, or neither for Amazon ECR.'
    ],
    [
      'password without username',
      { registry: 'r.example.com', password: 'p' },
      'Input "password" is set but "username" is empty: set both, or neither for Amazon ECR.'
    ],
    [
      'both without registry',
      { username: 'u', password: 'p' },
      'Inputs "username" and "password" need "registry": set the host of the OCI registry they log in to.'
    ]
  ])('%s', (_, values, message) => {
    expect(refusal(values, { AWS_REGION: 'eu-west-2' })).toBe(message)
  })

  it('a dry run with a username but an empty password secret goes on without credentials', () => {
    const { registry } = configFor({ registry: 'ghcr.io', username: 'u', 'dry-run': 'true' })
    expect(registry).toMatchObject({ kind: 'oci', credentials: undefined })
  })
})

describe('Helm source', () => {
  it('helm-sha256 needs an exact helm-version', () => {
    expect(
      refusal({ 'helm-sha256': 'ab'.repeat(32), 'helm-version': '4' }, { AWS_REGION: 'eu-west-2' })
    ).toBe(
      'Input "helm-sha256" pins one archive, so "helm-version" must be an exact version such as "3.18.0" (got "4").'
    )
  })

  it('an http:// mirror needs helm-sha256', () => {
    const env = { AWS_REGION: 'eu-west-2' }
    expect(refusal({ 'helm-download-url': 'http://mirror.internal/helm' }, env)).toMatch(
      /^Input "helm-download-url" must be an https:\/\/ URL \(got "http:\/\/mirror.internal\/helm"\).*pin the archive with "helm-sha256"\.$/
    )
    expect(
      configFor(
        {
          'helm-download-url': 'http://mirror.internal/helm',
          'helm-sha256': 'AB'.repeat(32),
          'helm-version': '3.18.0'
        },
        env
      ).helm
    ).toEqual({
      version: { kind: 'exact', version: '3.18.0' },
      downloadUrl: 'http://mirror.internal/helm',
      sha256: 'ab'.repeat(32)
    })
  })

  it('Helm 3.18.0 cannot push +build versions (helm#30881); other releases can', () => {
    expect(() => rejectKnownHelmBugs('3.18.0', ['1.0.0', '1.0.0+build.1'])).toThrow(
      new UserError(
        'Helm 3.18.0 cannot push version 1.0.0+build.1 (build metadata after "+", helm/helm#30881): set "helm-version" to another release, e.g. "3" or "4".'
      )
    )
    expect(() => rejectKnownHelmBugs('3.18.1', ['1.0.0+build.1'])).not.toThrow()
    expect(() => rejectKnownHelmBugs('3.18.0', ['1.0.0'])).not.toThrow()
  })
})

describe('attest', () => {
  const oci = { registry: 'charts.example.com', username: 'me', password: 'pw', attest: 'true' }

  it('is present in publish mode with the GitHub token; absent in a dry run', () => {
    const config = configFor({ ...oci, 'github-token': 'ghs_abc' }, OIDC)
    expect(config.attest).toEqual({ githubToken: 'ghs_abc' })
    expect(configFor({ ...oci, 'dry-run': 'true' }).attest).toBeUndefined()
    expect(configFor({ ...oci, attest: 'false' }).attest).toBeUndefined()
  })

  it('needs the job OIDC token, before anything is pushed', () => {
    expect(refusal(oci)).toBe(
      'Input "attest" is true but the job has no OIDC token to sign with: add "permissions: id-token: write" to the job (and "attestations: write" to also store attestations in GitHub), or set "attest: false".'
    )
  })

  it('refuses TLS settings the referrer push cannot follow, for every kind', () => {
    expect(refusal({ ...oci, 'plain-http': 'true' }, OIDC)).toMatch(
      /^Input "attest" stores attestations over HTTPS and cannot use "plain-http" for charts\.example\.com/
    )
    expect(refusal({ ...oci, 'insecure-skip-tls-verify': 'true' }, OIDC)).toMatch(
      /cannot use "insecure-skip-tls-verify"/
    )
    expect(refusal({ ...oci, 'ca-file': ca }, OIDC)).toMatch(/set NODE_EXTRA_CA_CERTS/)
    expect(
      configFor({ ...oci, 'ca-file': ca }, { ...OIDC, NODE_EXTRA_CA_CERTS: ca }).attest
    ).toBeDefined()
    expect(refusal({ registry: ECR, attest: 'true', 'ca-file': ca }, OIDC)).toMatch(
      /set NODE_EXTRA_CA_CERTS/
    )
  })

  it('allows plain HTTP to a loopback registry; a dry run refuses none of these', () => {
    expect(
      configFor({ ...oci, registry: '127.0.0.1:5000', 'plain-http': 'true' }, OIDC).attest
    ).toBeDefined()
    expect(configFor({ ...oci, 'dry-run': 'true', 'plain-http': 'true' }).registry.kind).toBe('oci')
  })
})

describe('signing', () => {
  const env = { AWS_REGION: 'eu-west-2' }

  it('is present with a key, with or without its passphrase, and absent without one', () => {
    expect(configFor({ 'signing-key': KEY }, env).signing).toEqual({
      armoredKey: KEY,
      passphrase: undefined
    })
    expect(
      configFor({ 'signing-key': KEY, 'signing-passphrase': ' pass phrase ' }, env).signing
    ).toEqual({
      armoredKey: KEY,
      passphrase: ' pass phrase '
    })
    expect(configFor({}, env).signing).toBeUndefined()
  })

  it('masks the key, each of its lines, and the passphrase', () => {
    configFor({ 'signing-key': KEY, 'signing-passphrase': 'secret words' }, env)
    const masked = core.setSecret.mock.calls.map(([value]) => value)
    expect(masked).toEqual(expect.arrayContaining([KEY, 'xcLYBGabc', '=AbCd', 'secret words']))
  })

  it('refuses a passphrase without a key, in one line', () => {
    expect(refusal({ 'signing-passphrase': 'secret words' }, env)).toBe(
      'Input "signing-passphrase" is set but "signing-key" is empty: set "signing-key" to the ASCII-armored secret key (from a secret), or remove "signing-passphrase".'
    )
  })
})

describe('settings without create-repository', () => {
  it('image-tag-mutability warns like the other settings (it is ignored)', () => {
    configFor({ registry: ECR, 'image-tag-mutability': 'IMMUTABLE' })
    expect(core.warning).toHaveBeenCalledWith(
      'Input "image-tag-mutability" only applies to repositories this step creates, and "create-repository" is false: it is ignored (see the README on changing existing repositories).'
    )
    core.resetCore()
    configFor({ registry: ECR, 'image-tag-mutability': 'IMMUTABLE', 'create-repository': 'true' })
    expect(core.warning).not.toHaveBeenCalled()
  })
})
