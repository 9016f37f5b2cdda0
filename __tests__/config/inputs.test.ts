import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeEach, describe, expect, it, test, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'
import { actionInputDefaults } from '../../testbed/runner.js'
import { errorOf } from '../../__fixtures__/rejection.js'
import { EXPIRE_UNTAGGED_POLICY } from '../../__fixtures__/lifecycle.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { parseBoolean, parseChartVersion, parseHelmVersion, parseNamespace, readInputs } =
  await import('../../src/config/inputs.js')
const { parseList } = await import('../../src/config/charts-input.js')
const { UserError } = await import('../../src/errors.js')
const { readConfig } = await import('../../src/config/config.js')

/** Every input with its action.yml default, as the runner passes them. */
const DEFAULTS = actionInputDefaults()

const ECR = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const SHA = 'ab'.repeat(32)

/** A reader over the defaults plus `values`; reading an input action.yml lacks is a test failure. */
function reader(values: Record<string, string> = {}) {
  const all = { ...DEFAULTS, ...values }
  return (name: string): string => {
    if (!(name in DEFAULTS)) throw new Error(`input "${name}" is not in action.yml`)
    return all[name]
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-test-'))
const caFile = path.join(tmp, 'ca.pem')
fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n')

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
beforeEach(() => core.resetCore())

describe('repository settings', () => {
  const LIFECYCLE = EXPIRE_UNTAGGED_POLICY
  fs.writeFileSync(path.join(tmp, 'lifecycle.json'), LIFECYCLE)
  const all = {
    'create-repository': 'true',
    'repository-tags': 'team=platform\ncost-center=1234',
    'scan-on-push': 'true',
    'kms-key': 'alias/ecr-charts',
    'lifecycle-policy': 'lifecycle.json',
    'pull-accounts': '111122223333, o-a1b2c3d4e5'
  }

  it('reads every setting; the lifecycle file relative to the workspace, as given', () => {
    expect(readInputs(reader(all), tmp).repositorySettings).toEqual({
      tags: [
        { Key: 'team', Value: 'platform' },
        { Key: 'cost-center', Value: '1234' }
      ],
      scanOnPush: true,
      kmsKey: 'alias/ecr-charts',
      lifecyclePolicy: { display: 'lifecycle.json', text: LIFECYCLE },
      pull: { accounts: ['111122223333'], organizations: ['o-a1b2c3d4e5'] }
    })
    expect(core.warning).not.toHaveBeenCalled()
  })

  test.each([
    ['repository-tags', 'team', 'Input "repository-tags" entry "team" is not key=value'],
    ['scan-on-push', 'yes', 'Input "scan-on-push" must be "true" or "false"'],
    ['kms-key', 'my-key', 'Input "kms-key" must be a KMS key ID'],
    [
      'lifecycle-policy',
      'missing.json',
      'Input "lifecycle-policy" names a file that does not exist (missing.json)'
    ],
    [
      'lifecycle-policy',
      '../outside.json',
      'Input "lifecycle-policy" (../outside.json) is outside the workspace'
    ],
    [
      'pull-accounts',
      '1234-5678-9012',
      'Input "pull-accounts" entry "1234-5678-9012" is not a 12-digit AWS account ID'
    ],
    ['pull-accounts', 'o-short', 'Input "pull-accounts" entry "o-short" is neither']
  ])('%s %j fails with one line naming it', (name, value, message) => {
    const error = errorOf(() =>
      readInputs(reader({ 'create-repository': 'true', [name]: value }), tmp)
    )
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toContain(message)
    expect(error.message).not.toContain('\n')
  })
})

describe('readInputs', () => {
  it('reads the action.yml defaults', () => {
    expect(readInputs(reader())).toEqual({
      charts: ['.'],
      registry: undefined,
      namespace: '',
      region: undefined,
      version: undefined,
      appVersion: undefined,
      helmVersion: { kind: 'latest' },
      helmDownloadUrl: 'https://get.helm.sh',
      helmSha256: undefined,
      createRepository: false,
      imageTagMutability: undefined,
      repositorySettings: {
        tags: [],
        scanOnPush: false,
        pull: { accounts: [], organizations: [] }
      },
      skipExisting: false,
      maxParallel: 4,
      dryRun: false,
      username: undefined,
      password: undefined,
      tls: { plainHttp: false, insecureSkipTlsVerify: false, caFile: undefined },
      attest: false,
      githubToken: undefined
    })
  })

  it('reads attest and, only with it, the GitHub token (masked)', () => {
    const inputs = readInputs(reader({ attest: 'true', 'github-token': 'ghs_abc' }))
    expect(inputs.attest).toBe(true)
    expect(inputs.githubToken).toBe('ghs_abc')
    expect(core.setSecret).toHaveBeenCalledWith('ghs_abc')
    expect(readInputs(reader({ 'github-token': 'ghs_abc' })).githubToken).toBeUndefined()
    expect(errorOf(() => readInputs(reader({ attest: 'yes' }))).message).toBe(
      'Input "attest" must be "true" or "false" (got "yes").'
    )
  })

  it('reads getInput by default (mocked core)', () => {
    Object.assign(core.inputs, { charts: 'charts/a', 'max-parallel': '2' })
    const inputs = readInputs()
    expect(inputs.charts).toEqual(['charts/a'])
    expect(inputs.maxParallel).toBe(2)
    expect(core.getInput).toHaveBeenCalledWith('charts', { trimWhitespace: true })
    // the password is taken exactly as given
    expect(core.getInput).toHaveBeenCalledWith('password', { trimWhitespace: false })
  })

  it('removes the password and signing secrets from process.env once read (the real core.getInput reads INPUT_PASSWORD)', () => {
    process.env.INPUT_PASSWORD = ' hunter2\n'
    const real = vi.mocked(core.getInput).getMockImplementation()
    core.getInput.mockImplementation(name => process.env[`INPUT_${name.toUpperCase()}`] ?? '')
    try {
      process.env.INPUT_REGISTRY = 'registry.example.com'
      process.env.INPUT_USERNAME = 'robot'
      process.env['INPUT_SIGNING-KEY'] = 'armored\nkey\n'
      process.env['INPUT_SIGNING-PASSPHRASE'] = ' words '
      const inputs = readInputs()
      expect(inputs.password).toBe(' hunter2\n')
      expect(process.env.INPUT_PASSWORD).toBeUndefined()
      expect(core.setSecret).toHaveBeenCalledWith(' hunter2\n')
      // The signing key and passphrase likewise: exactly as given, masked, gone from the env.
      expect([inputs.signingKey, inputs.signingPassphrase]).toEqual(['armored\nkey\n', ' words '])
      expect(process.env['INPUT_SIGNING-KEY']).toBeUndefined()
      expect(process.env['INPUT_SIGNING-PASSPHRASE']).toBeUndefined()
      expect(core.setSecret).toHaveBeenCalledWith(' words ')
    } finally {
      core.getInput.mockImplementation(real!)
      delete process.env['INPUT_SIGNING-KEY']
      delete process.env['INPUT_SIGNING-PASSPHRASE']
      delete process.env.INPUT_PASSWORD
      delete process.env.INPUT_REGISTRY
      delete process.env.INPUT_USERNAME
    }
  })

  it('reads a full ECR configuration', () => {
    const inputs = readInputs(
      reader({
        charts: 'charts/a\ncharts/b, charts/c',
        registry: ECR,
        namespace: '/team/charts/',
        region: 'eu-west-2',
        version: 'v1.4.0+build.7',
        'app-version': ' 2.0.1 ',
        'helm-version': 'v3.18.0',
        'helm-download-url': 'https://mirror.example.com/helm/',
        'create-repository': 'true',
        'image-tag-mutability': 'immutable',
        'skip-existing': 'TRUE',
        'max-parallel': '32'
      })
    )
    expect(inputs).toMatchObject({
      charts: ['charts/a', 'charts/b', 'charts/c'],
      registry: { kind: 'ecr', host: ECR, region: 'eu-west-2', accountId: '123456789012' },
      namespace: 'team/charts',
      region: 'eu-west-2',
      version: '1.4.0+build.7',
      appVersion: '2.0.1',
      helmVersion: { kind: 'exact', version: '3.18.0' },
      helmDownloadUrl: 'https://mirror.example.com/helm',
      createRepository: true,
      imageTagMutability: 'IMMUTABLE',
      skipExisting: true,
      maxParallel: 32
    })
  })

  it('reads a non-ECR registry with credentials and TLS options, and masks the password', () => {
    const inputs = readInputs(
      reader({
        registry: 'localhost:5000',
        username: ' ci ',
        password: ' s3cret ',
        'plain-http': 'true',
        'insecure-skip-tls-verify': 'true',
        'ca-file': caFile
      })
    )
    expect(inputs.registry).toEqual({ kind: 'oci', host: 'localhost:5000' })
    expect(inputs.username).toBe('ci')
    // The password is taken verbatim: spaces may be part of it.
    expect(inputs.password).toBe(' s3cret ')
    expect(inputs.tls).toEqual({ plainHttp: true, insecureSkipTlsVerify: true, caFile })
    expect(core.setSecret).toHaveBeenCalledWith(' s3cret ')
  })

  it('accepts an http:// mirror when helm-sha256 pins the archive, and lower-cases the pin', () => {
    const inputs = readInputs(
      reader({
        'helm-download-url': 'http://mirror.internal/helm/',
        'helm-sha256': ` ${SHA.toUpperCase()} `,
        'helm-version': 'v3.18.0'
      })
    )
    expect(inputs.helmDownloadUrl).toBe('http://mirror.internal/helm')
    expect(inputs.helmSha256).toBe(SHA)
  })

  it('accepts ca-file for ECR (a TLS-inspecting proxy) and both switches off', () => {
    const inputs = readInputs(reader({ registry: ECR, 'ca-file': caFile }))
    expect(inputs.tls).toEqual({ plainHttp: false, insecureSkipTlsVerify: false, caFile })
  })

  it('accepts ECR Public with an alias namespace', () => {
    const inputs = readInputs(reader({ registry: 'public.ecr.aws', namespace: 'my-alias/charts' }))
    expect(inputs.registry).toEqual({
      kind: 'ecr-public',
      host: 'public.ecr.aws',
      region: 'us-east-1'
    })
    expect(inputs.namespace).toBe('my-alias/charts')
  })

  it('accepts a region on its own and a matching region with the registry', () => {
    expect(readInputs(reader({ region: 'us-gov-west-1' })).region).toBe('us-gov-west-1')
    expect(readInputs(reader({ region: 'eusc-de-east-1' })).region).toBe('eusc-de-east-1')
    expect(readInputs(reader({ registry: ECR, region: 'eu-west-2' })).region).toBe('eu-west-2')
  })

  it('falls back to "." when charts lists only blanks and comments', () => {
    expect(readInputs(reader({ charts: '\n  # none\n , ' })).charts).toEqual(['.'])
  })

  it('falls back to defaults for empty values', () => {
    const inputs = readInputs(
      reader({
        'helm-version': '',
        'helm-download-url': ' ',
        'image-tag-mutability': '',
        'max-parallel': '',
        'create-repository': '',
        'plain-http': ''
      })
    )
    expect(inputs.helmVersion).toEqual({ kind: 'latest' })
    expect(inputs.helmDownloadUrl).toBe('https://get.helm.sh')
    expect(inputs.imageTagMutability).toBeUndefined()
    expect(inputs.maxParallel).toBe(4)
    expect(inputs.createRepository).toBe(false)
  })

  test.each<[string, Record<string, string>, string, string]>([
    [
      'registry with a scheme',
      { registry: `https://${ECR}` },
      'registry',
      `Input "registry" must be a bare host without a scheme (got "https://${ECR}"): remove the "https://" prefix, e.g. "123456789012.dkr.ecr.eu-west-2.amazonaws.com".`
    ],
    [
      'invalid namespace',
      { namespace: 'Team/Charts' },
      'namespace',
      'Input "namespace" must be lowercase, as registries require (got "Team/Charts"): use "team/charts".'
    ],
    [
      'invalid region',
      { region: 'Europe' },
      'region',
      'Input "region" must be an AWS region such as "eu-west-2" or "us-gov-west-1" (got "Europe").'
    ],
    [
      'username without password',
      { registry: 'ghcr.io', username: 'me' },
      'username',
      'Input "username" is set but "password" is empty: set both, or neither for Amazon ECR.'
    ],
    [
      'password without username',
      { registry: 'ghcr.io', password: 'pw' },
      'password',
      'Input "password" is set but "username" is empty: set both, or neither for Amazon ECR.'
    ],
    [
      'credentials without registry',
      { username: 'me', password: 'pw' },
      'registry',
      'Inputs "username" and "password" need "registry": set the host of the OCI registry they log in to.'
    ],
    [
      'create-repository not a boolean',
      { 'create-repository': 'yes' },
      'create-repository',
      'Input "create-repository" must be "true" or "false" (got "yes").'
    ],
    [
      'ca-file that does not exist',
      { 'ca-file': '/nonexistent/ca.pem' },
      'ca-file',
      'Input "ca-file" names a file that does not exist (/nonexistent/ca.pem): check the path.'
    ],
    [
      'version not SemVer',
      { version: 'release-1' },
      'version',
      'Input "version" must be a SemVer 2 version such as "1.4.0" or "v1.4.0" (got "release-1"): on tag pushes, use tags like v1.4.0.'
    ],
    [
      'app-version with a newline',
      { 'app-version': '1.0\n2.0' },
      'app-version',
      'Input "app-version" must be a single line without control characters: pass one value such as "1.4.0".'
    ],
    [
      'helm-version garbage',
      { 'helm-version': 'newest' },
      'helm-version',
      'Input "helm-version" must be "latest", a major version ("3" or "4"), or an exact version such as "3.18.0" (got "newest").'
    ],
    [
      'helm-version too old',
      { 'helm-version': '3.7.2' },
      'helm-version',
      'Input "helm-version" 3.7.2 is too old: OCI push needs Helm 3.8.0 or later; use "3", "4" or "latest".'
    ],
    [
      'helm-download-url not a URL',
      { 'helm-download-url': 'get.helm.sh' },
      'helm-download-url',
      'Input "helm-download-url" must be an https:// URL such as "https://get.helm.sh" (got "get.helm.sh").'
    ],
    [
      'helm-download-url not http(s)',
      { 'helm-download-url': 'ftp://mirror.example.com' },
      'helm-download-url',
      'Input "helm-download-url" must be an https:// URL such as "https://get.helm.sh" (got "ftp://mirror.example.com").'
    ],
    [
      'helm-download-url over plain HTTP without a pin',
      { 'helm-download-url': 'http://mirror.example.com/helm' },
      'helm-download-url',
      'Input "helm-download-url" must be an https:// URL (got "http://mirror.example.com/helm"): over plain HTTP anyone on the path can swap the archive and its checksum; use https://, or pin the archive with "helm-sha256".'
    ],
    [
      'helm-sha256 not 64 hex digits',
      { 'helm-sha256': 'abc123', 'helm-version': '3.18.0' },
      'helm-sha256',
      'Input "helm-sha256" must be the 64 hex digits of the Helm archive\'s SHA-256 (got "abc123"): copy it from the archive\'s .sha256sum file on get.helm.sh.'
    ],
    [
      'helm-sha256 with helm-version latest',
      { 'helm-sha256': SHA },
      'helm-sha256',
      'Input "helm-sha256" pins one archive, so "helm-version" must be an exact version such as "3.18.0" (got "latest").'
    ],
    [
      'helm-sha256 with a major helm-version',
      { 'helm-sha256': SHA, 'helm-version': '4' },
      'helm-sha256',
      'Input "helm-sha256" pins one archive, so "helm-version" must be an exact version such as "3.18.0" (got "4").'
    ],
    [
      'image-tag-mutability unknown',
      { 'image-tag-mutability': 'IMMUTABLE_WITH_EXCLUSION' },
      'image-tag-mutability',
      'Input "image-tag-mutability" must be "MUTABLE" or "IMMUTABLE" (got "IMMUTABLE_WITH_EXCLUSION").'
    ],
    [
      'skip-existing not a boolean',
      { 'skip-existing': '1' },
      'skip-existing',
      'Input "skip-existing" must be "true" or "false" (got "1").'
    ],
    [
      'max-parallel zero',
      { 'max-parallel': '0' },
      'max-parallel',
      'Input "max-parallel" must be a whole number from 1 to 32 (got "0").'
    ],
    [
      'max-parallel too big',
      { 'max-parallel': '33' },
      'max-parallel',
      'Input "max-parallel" must be a whole number from 1 to 32 (got "33").'
    ],
    [
      'max-parallel fractional',
      { 'max-parallel': '1.5' },
      'max-parallel',
      'Input "max-parallel" must be a whole number from 1 to 32 (got "1.5").'
    ],
    [
      'max-parallel not a number',
      { 'max-parallel': 'four' },
      'max-parallel',
      'Input "max-parallel" must be a whole number from 1 to 32 (got "four").'
    ],
    [
      'plain-http not a boolean',
      { 'plain-http': 'on' },
      'plain-http',
      'Input "plain-http" must be "true" or "false" (got "on").'
    ],
    [
      'insecure-skip-tls-verify not a boolean',
      { 'insecure-skip-tls-verify': 'no' },
      'insecure-skip-tls-verify',
      'Input "insecure-skip-tls-verify" must be "true" or "false" (got "no").'
    ]
  ])('rejects %s', (_case, values, input, message) => {
    // Through the checked configuration: rules between inputs are config.ts's.
    const error = errorOf(() => readConfig(reader(values), tmp, { AWS_REGION: 'eu-west-2' }))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(message)
    expect(error.message).not.toMatch(/[\r\n]/)
    expect(error.message).toContain(`"${input}"`)
  })

  it('masks the password even when validation then fails', () => {
    expect(() => readConfig(reader({ password: 'pw-only' }), tmp, {})).toThrow(UserError)
    expect(core.setSecret).toHaveBeenCalledWith('pw-only')
  })
})

describe('parseList', () => {
  test.each([
    ['', []],
    ['.', ['.']],
    ['a,b', ['a', 'b']],
    [' a , b ,, c ', ['a', 'b', 'c']],
    ['a\nb\r\nc', ['a', 'b', 'c']],
    ['charts/*\n# a comment\n\n  charts/x/Chart.yaml  ', ['charts/*', 'charts/x/Chart.yaml']],
    ['a, # not this\nb', ['a', 'b']]
  ])('%j -> %j', (value, list) => {
    expect(parseList(value)).toEqual(list)
  })

  // "charts/{a,b}" is split at the comma into "charts/{a" and "b}": brace globs cannot be used.
  it('keeps brace globs such as charts/{a,b} whole', () => {
    expect(parseList('charts/{a,b}, other\nthird,{x,y}/z')).toEqual([
      'charts/{a,b}',
      'other',
      'third',
      '{x,y}/z'
    ])
  })
})

describe('parseBoolean', () => {
  test.each([
    ['true', true],
    ['TRUE', true],
    [' True ', true],
    ['false', false],
    ['False', false],
    ['', false],
    ['  ', false]
  ])('%j -> %s', (value, result) => {
    expect(parseBoolean('skip-existing', value)).toBe(result)
  })

  test.each(['yes', 'no', '1', '0', 'on', 'truee'])('%j is rejected', value => {
    expect(() => parseBoolean('plain-http', value)).toThrow(
      new UserError(`Input "plain-http" must be "true" or "false" (got "${value}").`)
    )
  })
})

describe('parseChartVersion', () => {
  test.each([
    ['', undefined],
    ['  ', undefined],
    ['1.4.0', '1.4.0'],
    ['v1.4.0', '1.4.0'],
    [' v1.4.0 ', '1.4.0'],
    ['1.2.3+build.5', '1.2.3+build.5'],
    ['v1.2.3-rc.1+build.5', '1.2.3-rc.1+build.5'],
    ['0.0.0-alpha', '0.0.0-alpha'],
    ['10.20.30', '10.20.30']
  ])('%j -> %j', (value, version) => {
    expect(parseChartVersion('version', value)).toBe(version)
  })

  test.each([
    '1.4',
    '1',
    'V1.4.0',
    'vv1.4.0',
    '01.4.0',
    '1.4.0.1',
    'latest',
    '1.4.0 beta',
    '=1.4.0'
  ])('%j is rejected', value => {
    const error = errorOf(() => parseChartVersion('version', value))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `Input "version" must be a SemVer 2 version such as "1.4.0" or "v1.4.0" (got "${value}"): on tag pushes, use tags like v1.4.0.`
    )
  })
})

describe('version given as a Git ref (github.ref instead of github.ref_name)', () => {
  test.each(['refs/tags/v1.4.0', 'refs/heads/main'])('%j suggests github.ref_name', value => {
    expect(errorOf(() => parseChartVersion('version', value)).message).toBe(
      `Input "version" is a Git ref (got "${value}"): pass the tag's name with "\${{ github.ref_name }}" instead of "\${{ github.ref }}".`
    )
  })
})

describe('charts separated by spaces', () => {
  fs.mkdirSync(path.join(tmp, 'charts', 'a'), { recursive: true })
  fs.mkdirSync(path.join(tmp, 'charts', 'b'), { recursive: true })
  fs.mkdirSync(path.join(tmp, 'my charts', 'c'), { recursive: true })

  test.each(['charts/a charts/b', 'charts/a  charts/*', 'charts/* charts/b'])(
    '%j suggests commas or newlines',
    value => {
      const parts = value.split(/\s+/).join(', ')
      expect(errorOf(() => readInputs(reader({ charts: value }), tmp)).message).toBe(
        `Input "charts" entry "${value.replace(/\s+/g, ' ')}" looks like several paths separated by spaces: separate them with commas or newlines, e.g. "${parts}".`
      )
    }
  )

  it('keeps a path with a space that exists, and leaves a missing one to discovery', () => {
    expect(readInputs(reader({ charts: 'my charts/c' }), tmp).charts).toEqual(['my charts/c'])
    expect(readInputs(reader({ charts: 'charts/a charts/typo' }), tmp).charts).toEqual([
      'charts/a charts/typo'
    ])
    expect(readInputs(reader({ charts: 'charts/a, charts/b' }), tmp).charts).toEqual([
      'charts/a',
      'charts/b'
    ])
  })
})

describe('parseHelmVersion', () => {
  test.each([
    ['', { kind: 'latest' }],
    ['latest', { kind: 'latest' }],
    [' LATEST ', { kind: 'latest' }],
    ['3', { kind: 'major', major: 3 }],
    ['4', { kind: 'major', major: 4 }],
    ['v3', { kind: 'major', major: 3 }],
    ['V4', { kind: 'major', major: 4 }],
    ['3.8.0', { kind: 'exact', version: '3.8.0' }],
    ['3.18.0', { kind: 'exact', version: '3.18.0' }],
    ['v3.18.0', { kind: 'exact', version: '3.18.0' }],
    ['4.1.4', { kind: 'exact', version: '4.1.4' }]
  ])('%j -> %j', (value, spec) => {
    expect(parseHelmVersion(value)).toEqual(spec)
  })

  test.each(['3.7.0', 'v3.0.0', '2.17.0'])('%j is too old', value => {
    expect(() => parseHelmVersion(value)).toThrow(
      new UserError(
        `Input "helm-version" ${value} is too old: OCI push needs Helm 3.8.0 or later; use "3", "4" or "latest".`
      )
    )
  })

  test.each(['2', '3.18', 'v3.18.0-rc.1', 'stable', '3.x', '>=3.8.0'])('%j is rejected', value => {
    expect(() => parseHelmVersion(value)).toThrow(
      new UserError(
        `Input "helm-version" must be "latest", a major version ("3" or "4"), or an exact version such as "3.18.0" (got "${value}").`
      )
    )
  })
})

describe('parseNamespace', () => {
  test.each([
    ['', ''],
    ['  ', ''],
    ['charts', 'charts'],
    ['/charts/', 'charts'],
    ['team/charts', 'team/charts'],
    ['my-alias/a.b_c-d', 'my-alias/a.b_c-d'],
    ['//x//', 'x']
  ])('%j -> %j', (value, ns) => {
    expect(parseNamespace(value)).toBe(ns)
  })

  test.each([
    ['Charts', 'charts'],
    ['Team/My-Charts', 'team/my-charts']
  ])('%j is rejected with its lowercase form', (value, lower) => {
    expect(() => parseNamespace(value)).toThrow(
      new UserError(
        `Input "namespace" must be lowercase, as registries require (got "${value}"): use "${lower}".`
      )
    )
  })

  test.each(['A..b', 'a//b', 'a b', 'a..b', '-a', 'a-', 'a/_b', 'oci://host/ns'])(
    '%j is rejected',
    value => {
      expect(() => parseNamespace(value)).toThrow(
        new UserError(
          `Input "namespace" must be lowercase path segments of letters, digits and single ".", "_" or "-" between them (got "${value}"): e.g. "charts" or "team/charts".`
        )
      )
    }
  )
})
