import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { parse } from 'yaml'
import * as core from '../../__fixtures__/core.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { privateRepositories, sameRepositoryUrl, addedRepositoryName } =
  await import('../../src/deps/repositories.js')
const { explainDependencyFailure } = await import('../../src/deps/explain.js')
const { HelmCommandError } = await import('../../src/helm/helm-output.js')
const { userRegistryEntries } = await import('../../src/registry/registry-configs.js')

let tmp: string
beforeEach(async () => {
  core.resetCore()
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'deps-test-'))
})
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true })
})

const USER_REPOS = `apiVersion: ""
generated: "2024-01-01T00:00:00Z"
repositories:
  - name: team
    url: https://charts.example.com/private/
    username: u
    password: s3cret-repo-pass
  - name: unrelated
    url: https://elsewhere.example.com
    password: other-pass
`

describe('privateRepositories', () => {
  it('copies the user entries the dependencies name (URL, @alias, alias:), adds other URLs, never writes the user file', async () => {
    const userFile = path.join(tmp, 'user', 'repositories.yaml')
    await fs.mkdir(path.dirname(userFile))
    await fs.writeFile(userFile, USER_REPOS)
    const dir = path.join(tmp, 'job')
    await fs.mkdir(dir)
    const result = await privateRepositories(
      [
        'https://charts.example.com/private',
        '@team',
        'alias:team',
        'https://public.example.com/charts',
        'file://../lib',
        'oci://r.example.com/x'
      ],
      dir,
      { HELM_REPOSITORY_CONFIG: userFile, HOME: tmp }
    )
    expect(await fs.readFile(userFile, 'utf8')).toBe(USER_REPOS)
    const config = result.env.HELM_REPOSITORY_CONFIG
    expect((await fs.stat(config)).mode & 0o777).toBe(0o600)
    const written = parse(await fs.readFile(config, 'utf8')) as {
      repositories: { name: string; url: string }[]
    }
    expect(written.repositories).toEqual([
      {
        name: 'team',
        url: 'https://charts.example.com/private/',
        username: 'u',
        password: 's3cret-repo-pass'
      },
      {
        name: addedRepositoryName('https://public.example.com/charts'),
        url: 'https://public.example.com/charts'
      }
    ])
    expect(result.added).toEqual(['https://public.example.com/charts'])
    expect(core.setSecret).toHaveBeenCalledWith('s3cret-repo-pass')
    expect(core.setSecret).not.toHaveBeenCalledWith('other-pass')
    // Helm 3.9 refreshes into HELM_CACHE_HOME/repository: the same private directory.
    expect(result.env.HELM_REPOSITORY_CACHE).toBe(
      path.join(result.env.HELM_CACHE_HOME, 'repository')
    )
  })

  it('masks credentials written into the URL of an entry it copies (Helm prints the URL in errors)', async () => {
    const userFile = path.join(tmp, 'repositories.yaml')
    await fs.writeFile(
      userFile,
      'repositories:\n  - name: team\n    url: https://u:url%2Ftok@charts.example.com/private\n'
    )
    await privateRepositories(['@team'], tmp, { HELM_REPOSITORY_CONFIG: userFile, HOME: tmp })
    expect(core.setSecret).toHaveBeenCalledWith('url%2Ftok')
    expect(core.setSecret).toHaveBeenCalledWith('url/tok')
  })

  it('compares URLs as Helm does', () => {
    expect(sameRepositoryUrl('https://Charts.Example.com/a/', 'https://charts.example.com/a')).toBe(
      true
    )
    expect(sameRepositoryUrl('https://charts.example.com/a', 'https://charts.example.com/b')).toBe(
      false
    )
  })
})

describe('userRegistryEntries', () => {
  it("takes other hosts' logins from Helm's and Docker's configs (Helm first), never the target's, and masks them", async () => {
    const auth = (s: string) => Buffer.from(s).toString('base64')
    const helmFile = path.join(tmp, 'helm.json')
    const dockerDir = path.join(tmp, 'docker')
    await fs.mkdir(dockerDir)
    await fs.writeFile(
      helmFile,
      JSON.stringify({
        auths: {
          'target.example.com': { auth: auth('u:target') },
          'other.example.com': { auth: auth('u:helm-pass') }
        }
      })
    )
    await fs.writeFile(
      path.join(dockerDir, 'config.json'),
      JSON.stringify({
        auths: {
          'other.example.com': { auth: auth('u:docker-pass') },
          'https://index.docker.io/v1/': { auth: auth('d:hub-pass') },
          'empty.example.com': {}
        },
        credHelpers: {
          'target.example.com': 'ecr-login',
          '1.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login'
        },
        credsStore: 'secretservice'
      })
    )
    const entries = await userRegistryEntries(path.join(tmp, 'own.json'), 'target.example.com', {
      HELM_REGISTRY_CONFIG: helmFile,
      DOCKER_CONFIG: dockerDir,
      HOME: tmp
    })
    expect(entries).toEqual({
      auths: {
        'other.example.com': { auth: auth('u:helm-pass') },
        'https://index.docker.io/v1/': { auth: auth('d:hub-pass') }
      },
      credHelpers: { '1.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login' }
    })
    expect(core.setSecret).toHaveBeenCalledWith('helm-pass')
    expect(core.setSecret).toHaveBeenCalledWith('hub-pass')
  })
})

describe('explainDependencyFailure', () => {
  const deps = [
    { name: 'common', repository: 'https://charts.example.com/stable', file: 'Chart.yaml' },
    {
      name: 'lib',
      repository: 'oci://210987654321.dkr.ecr.eu-west-2.amazonaws.com/shared',
      file: 'Chart.yaml'
    },
    { name: 'local', repository: 'file://../local', file: 'Chart.yaml' }
  ]
  const fail = (stderr: string) =>
    explainDependencyFailure(
      new HelmCommandError('dependency build', { exitCode: 1, stdout: '', stderr }),
      'charts/app',
      deps
    ).message

  it.each([
    [
      'Error: could not download oci://210987654321.dkr.ecr.eu-west-2.amazonaws.com/shared/lib: 403 Forbidden',
      "dependency lib (oci://210987654321.dkr.ecr.eu-west-2.amazonaws.com/shared) could not be fetched: the registry refused access (401/403): allow the job's role ecr:GetAuthorizationToken"
    ],
    [
      'Error: looks like "https://charts.example.com/stable" is not a valid chart repository or cannot be reached: failed to fetch https://charts.example.com/stable/index.yaml : 401 Unauthorized',
      'dependency common (https://charts.example.com/stable) could not be fetched: the repository refused access (401/403): add it with credentials in an earlier step'
    ],
    [
      'Error: Get "https://charts.example.com/stable/index.yaml": tls: failed to verify certificate: x509: certificate signed by unknown authority',
      'could not be fetched: its TLS certificate is not trusted: give Helm the CA with the "ca-file" input or SSL_CERT_FILE'
    ],
    [
      'Error: Get "https://charts.example.com/stable/index.yaml": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused',
      'the proxy refused the connection or could not be reached'
    ],
    [
      'Error: can\'t get a valid version for 1 subchart(s): "common" (repository "https://charts.example.com/stable", version "9.9.9")',
      'dependency common (https://charts.example.com/stable) could not be fetched: the chart or version was not found'
    ]
  ])('%s', (stderr, expected) => {
    const message = fail(stderr)
    expect(message).toMatch(/^Chart "charts\/app" /)
    expect(message).toContain(expected)
    expect(message).toMatch(/\(helm: .*\)$/)
  })
})
