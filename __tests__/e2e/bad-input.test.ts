/**
 * Reliability: a corpus of bad inputs, each run end to end through the bundled action. Every row
 * must fail with exit code 1 and exactly one `::error::` line that names the input (or the file)
 * and says how to fix it, with no stack trace, and nothing pushed or downloaded.
 */
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { HELM_VERSIONS } from '../../testbed/helm-binaries.js'
import { makeTempDir, REPO_ROOT } from '../../testbed/paths.js'
import { errorLines, runAction } from '../../testbed/runner.js'
import { manifestPuts } from '../../testbed/scenario.js'
import { makeChart, startStack, type Stack } from '../../testbed/stack.js'
import { prewarmedToolCache } from '../../testbed/tool-cache.js'

const ECR_HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
/** Stands for the test mirror's plain-HTTP URL in a row's inputs. */
const MIRROR_HTTP = '{mirror-http}'
const CHART_YAML = (body: string): string => `apiVersion: v2\ntype: application\n${body}\n`

export interface BadInput {
  /** What is wrong, as the test title. */
  what: string
  /** Inputs over the row defaults (charts: charts/good, Helm 4.1.4 from the pre-warmed cache). */
  inputs?: Record<string, string>
  /** Files to write, relative to the workspace (`../` reaches outside it). */
  files?: Record<string, string>
  /** Symlinks to make, relative to the workspace: link -> target. */
  links?: Record<string, string>
  /** Environment over stack.actionEnv. */
  env?: Record<string, string>
  /** Refused before any AWS API call. */
  noAwsCall?: boolean
  /** Every one of these must be in the single error line. */
  expected: (string | RegExp)[]
  /** The chart's own problem: that chart fails (listed in the outputs with its error), not the inputs. */
  chartFailure?: true
}

/** The corpus. docs/reliability.md cites its size. */
export const BAD_INPUTS: BadInput[] = [
  // ---- registry
  {
    what: 'registry with an oci:// scheme',
    inputs: { registry: `oci://${ECR_HOST}` },
    expected: [
      'Input "registry" must be a bare host without a scheme',
      'remove the "oci://" prefix'
    ]
  },
  {
    what: 'registry with an https:// scheme',
    inputs: { registry: `https://${ECR_HOST}` },
    expected: ['Input "registry"', 'remove the "https://" prefix']
  },
  {
    what: 'registry with a path',
    inputs: { registry: `${ECR_HOST}/charts` },
    expected: ['Input "registry" must be a host without a path', 'put the path in "namespace"']
  },
  {
    what: 'registry that is only a port (empty host)',
    inputs: { registry: ':5000' },
    expected: ['Input "registry" is not a valid host name', 'use a host such as']
  },
  {
    what: 'registry with a space',
    inputs: { registry: 'my registry.example.com' },
    expected: ['Input "registry" is not a valid host name']
  },
  {
    what: 'registry with user info',
    inputs: { registry: 'user@registry.example.com', username: 'u', password: 'p4ssw0rd' },
    expected: ['Input "registry" is not a valid host name']
  },
  {
    what: 'registry with a port out of range',
    inputs: { registry: 'registry.example.com:99999', username: 'u', password: 'p4ssw0rd' },
    expected: ['Input "registry" has port 99999', 'use a port from 1 to 65535']
  },
  {
    what: 'ECR-looking registry with a short account id',
    inputs: { registry: '12345.dkr.ecr.eu-west-2.amazonaws.com' },
    expected: [
      'Input "registry" looks like an Amazon ECR host but is not one',
      '12-digit account id'
    ]
  },
  {
    what: 'non-ECR registry without credentials',
    inputs: { registry: 'ghcr.io' },
    expected: [
      'Input "registry" (ghcr.io) is not an Amazon ECR host',
      'set "username" and "password"'
    ]
  },
  // ---- region
  {
    what: 'no region anywhere (empty registry, no AWS_REGION)',
    env: { AWS_REGION: '', AWS_DEFAULT_REGION: '' },
    expected: ['Input "region" is empty', 'set "region"']
  },
  {
    what: 'region that contradicts the registry host',
    inputs: { registry: ECR_HOST, region: 'us-east-1' },
    expected: [
      'Input "region" (us-east-1) contradicts the region in "registry" (eu-west-2)',
      'make them match'
    ]
  },
  {
    what: 'region that is not an AWS region',
    inputs: { region: 'Europe (London)' },
    expected: ['Input "region" must be an AWS region such as "eu-west-2"']
  },
  // ---- Helm
  {
    what: 'helm-version that is not a version',
    inputs: { 'helm-version': 'banana' },
    expected: ['Input "helm-version" must be "latest", a major version', '(got "banana")']
  },
  {
    what: 'helm-version with two parts',
    inputs: { 'helm-version': '3.18' },
    expected: ['Input "helm-version" must be', 'such as "3.18.0"']
  },
  {
    what: 'helm-version older than 3.8.0',
    inputs: { 'helm-version': '3.7.2' },
    expected: ['Input "helm-version" 3.7.2 is too old', 'Helm 3.8.0 or later']
  },
  {
    what: 'helm-version that does not exist on the mirror',
    inputs: { 'helm-version': '3.99.0' },
    expected: ['v3.99.0', 'HTTP 404', 'check "helm-version" and "helm-download-url"']
  },
  {
    what: 'helm-download-url with an ftp:// scheme',
    inputs: { 'helm-download-url': 'ftp://mirror.example.com/helm', 'helm-version': '4' },
    expected: ['Input "helm-download-url" must be an https:// URL']
  },
  {
    what: 'helm-download-url that is not a URL',
    inputs: { 'helm-download-url': 'get.helm.sh', 'helm-version': '4' },
    expected: ['Input "helm-download-url" must be an https:// URL', '(got "get.helm.sh")']
  },
  // ---- downloads and TLS switches (issue 10)
  {
    what: 'helm-download-url over plain http:// without helm-sha256',
    inputs: { 'helm-download-url': MIRROR_HTTP, 'helm-version': '4' },
    expected: [
      'Input "helm-download-url" must be an https:// URL',
      'pin the archive with "helm-sha256"'
    ]
  },
  {
    what: 'helm-sha256 that is not 64 hex digits',
    inputs: { 'helm-sha256': 'sha256:abc', 'helm-version': HELM_VERSIONS.v4 },
    expected: ['Input "helm-sha256" must be the 64 hex digits', '(got "sha256:abc")']
  },
  {
    what: 'helm-sha256 with helm-version "4"',
    inputs: { 'helm-sha256': 'a'.repeat(64), 'helm-version': '4' },
    expected: ['Input "helm-sha256" pins one archive', 'an exact version such as "3.18.0"']
  },
  ...(
    [
      ['the default ECR registry', {}, 'Amazon ECR (the default registry of the AWS credentials)'],
      ['a private ECR host', { registry: ECR_HOST }, `Amazon ECR (${ECR_HOST})`],
      [
        'ECR Public',
        { registry: 'public.ecr.aws', namespace: 'alias' },
        'Amazon ECR Public (public.ecr.aws)'
      ]
    ] as const
  ).flatMap(([kind, inputs, named]): BadInput[] =>
    (['plain-http', 'insecure-skip-tls-verify'] as const).map(input => ({
      what: `${input} for ${kind}`,
      inputs: { ...inputs, [input]: 'true' },
      noAwsCall: true,
      expected: [`Input "${input}" is refused for ${named}`, '12-hour registry token']
    }))
  ),
  // ---- versions
  {
    what: 'version that is not SemVer (two parts)',
    inputs: { version: '1.2' },
    expected: ['Input "version" must be a SemVer 2 version', '(got "1.2")']
  },
  {
    what: 'version that is a word',
    inputs: { version: 'latest' },
    expected: ['Input "version" must be a SemVer 2 version', 'tags like v1.4.0']
  },
  {
    what: 'version with a leading zero',
    inputs: { version: '01.2.3' },
    expected: ['Input "version" must be a SemVer 2 version', '(got "01.2.3")']
  },
  {
    what: 'version that is a Git ref (github.ref instead of github.ref_name)',
    inputs: { version: 'refs/tags/v1.2.0' },
    expected: ['Input "version" is a Git ref (got "refs/tags/v1.2.0")', '${{ github.ref_name }}']
  },
  {
    what: 'app-version with a newline',
    inputs: { 'app-version': '1.0\nrm -rf /' },
    expected: ['Input "app-version" must be a single line']
  },
  {
    what: 'Helm 3.18.0 with a +build version (helm#30881)',
    inputs: { 'helm-version': HELM_VERSIONS.v3_18, version: '1.0.0+build.1' },
    expected: ['Helm 3.18.0 cannot push version 1.0.0+build.1', 'set "helm-version"']
  },
  // ---- namespace
  {
    what: 'namespace with uppercase',
    inputs: { namespace: 'Team/Charts' },
    expected: ['Input "namespace" must be lowercase', '(got "Team/Charts")', 'use "team/charts"']
  },
  {
    what: 'namespace with ..',
    inputs: { namespace: 'charts/../secrets' },
    expected: ['Input "namespace" must be lowercase path segments', 'e.g. "charts"']
  },
  {
    what: 'namespace with an empty segment',
    inputs: { namespace: 'team//charts' },
    expected: ['Input "namespace"', '(got "team//charts")']
  },
  {
    what: 'public.ecr.aws without a namespace',
    inputs: { registry: 'public.ecr.aws' },
    expected: ['Input "namespace" is required for public.ecr.aws', 'registry alias']
  },
  // ---- charts
  {
    what: 'chart path outside the workspace (../)',
    inputs: { charts: '../outside' },
    files: { '../outside/Chart.yaml': CHART_YAML('name: outside\nversion: 0.1.0') },
    expected: ['Input "charts" entry "../outside" is outside the workspace', 'relative path']
  },
  {
    what: 'chart path that is a symlink out of the workspace',
    inputs: { charts: 'charts/link' },
    files: { '../outside/Chart.yaml': CHART_YAML('name: outside\nversion: 0.1.0') },
    links: { 'charts/link': '../../outside' },
    expected: ['Input "charts" entry "charts/link" is outside the workspace']
  },
  {
    what: 'glob that climbs out of the workspace',
    inputs: { charts: '../out*' },
    files: { '../outside/Chart.yaml': CHART_YAML('name: outside\nversion: 0.1.0') },
    expected: ['Input "charts"', 'outside the workspace']
  },
  {
    what: 'chart paths separated by spaces',
    inputs: { charts: 'charts/good charts/other' },
    files: { 'charts/other/Chart.yaml': CHART_YAML('name: other\nversion: 0.1.0') },
    expected: [
      'Input "charts" entry "charts/good charts/other" looks like several paths separated by spaces',
      'separate them with commas or newlines'
    ]
  },
  {
    what: 'chart path that does not exist',
    inputs: { charts: 'charts/absent' },
    expected: ['Input "charts" entry "charts/absent" does not exist in the workspace']
  },
  {
    what: 'directory without Chart.yaml',
    inputs: { charts: 'charts/empty' },
    files: { 'charts/empty/values.yaml': 'a: 1\n' },
    expected: ['Input "charts" entry "charts/empty" is a directory without Chart.yaml']
  },
  {
    what: 'glob that matches no chart',
    inputs: { charts: 'charts/nothing-*' },
    expected: ['Input "charts" pattern "charts/nothing-*" matched no chart', 'fix the pattern']
  },
  {
    what: 'file that is not a chart',
    inputs: { charts: 'README.md' },
    files: { 'README.md': '# hello\n' },
    expected: ['Input "charts" entry "README.md" is neither a chart directory']
  },
  {
    what: 'Chart.yaml that is not YAML',
    chartFailure: true,
    inputs: { charts: 'charts/broken' },
    files: { 'charts/broken/Chart.yaml': 'name: [unclosed\nversion: 0.1.0\n' },
    expected: ['charts/broken/Chart.yaml is not valid YAML', 'fix the file']
  },
  {
    what: 'Chart.yaml that is a list, not a mapping',
    chartFailure: true,
    inputs: { charts: 'charts/list' },
    files: { 'charts/list/Chart.yaml': '- name: list\n- version: 0.1.0\n' },
    expected: ['charts/list/Chart.yaml is not a YAML mapping', '"name" and "version"']
  },
  {
    what: 'Chart.yaml without name',
    chartFailure: true,
    inputs: { charts: 'charts/noname' },
    files: { 'charts/noname/Chart.yaml': CHART_YAML('version: 0.1.0') },
    expected: ['charts/noname/Chart.yaml has no "name"', 'add the chart name']
  },
  {
    what: 'Chart.yaml without version',
    chartFailure: true,
    inputs: { charts: 'charts/noversion' },
    files: { 'charts/noversion/Chart.yaml': CHART_YAML('name: noversion') },
    expected: ['charts/noversion/Chart.yaml has no "version"', 'set the "version" input']
  },
  {
    what: 'Chart.yaml version that is not SemVer',
    chartFailure: true,
    inputs: { charts: 'charts/badver' },
    files: { 'charts/badver/Chart.yaml': CHART_YAML('name: badver\nversion: "1.0"') },
    expected: ['charts/badver/Chart.yaml version "1.0" is not SemVer 2', 'fix Chart.yaml']
  },
  {
    what: 'chart name that is not a repository name (uppercase)',
    chartFailure: true,
    inputs: { charts: 'charts/upper' },
    files: { 'charts/upper/Chart.yaml': CHART_YAML('name: MyChart\nversion: 0.1.0') },
    expected: ['name "MyChart" is not a valid repository name', 'use lowercase letters']
  },
  {
    what: 'chart name with a slash',
    chartFailure: true,
    inputs: { charts: 'charts/slash' },
    files: { 'charts/slash/Chart.yaml': CHART_YAML('name: team/chart\nversion: 0.1.0') },
    expected: ['charts/slash/Chart.yaml name "team/chart" is not a valid repository name']
  },
  {
    what: 'two charts with the same name',
    inputs: { charts: 'charts/good, charts/twin' },
    files: { 'charts/twin/Chart.yaml': CHART_YAML('name: good\nversion: 0.2.0') },
    expected: ['Input "charts" has two charts named "good"', 'publish each name once per run']
  },
  {
    what: 'charts that depend on each other in a cycle',
    inputs: { charts: 'charts/ping, charts/pong' },
    files: {
      'charts/ping/Chart.yaml': CHART_YAML(
        'name: ping\nversion: 0.1.0\ndependencies:\n  - name: pong\n    version: 0.1.0\n    repository: file://../pong'
      ),
      'charts/pong/Chart.yaml': CHART_YAML(
        'name: pong\nversion: 0.1.0\ndependencies:\n  - name: ping\n    version: 0.1.0\n    repository: file://../ping'
      )
    },
    expected: ['Charts depend on each other in a cycle', 'remove one of these dependencies']
  },
  {
    what: 'version input with a packaged .tgz',
    inputs: { charts: 'dist/good-0.1.0.tgz', version: '1.0.0' },
    files: { 'dist/good-0.1.0.tgz': 'not really an archive' },
    expected: [
      'Inputs "version" and "app-version" cannot change the packaged chart',
      'dist/good-0.1.0.tgz'
    ]
  },
  {
    what: '.tgz that is not a chart archive',
    chartFailure: true,
    inputs: { charts: 'dist/fake-0.1.0.tgz' },
    files: { 'dist/fake-0.1.0.tgz': 'not really an archive' },
    expected: ['Input "charts" entry "dist/fake-0.1.0.tgz" is not a readable Helm chart archive']
  },
  // ---- switches
  {
    what: 'image-tag-mutability: sometimes',
    inputs: { 'image-tag-mutability': 'sometimes' },
    expected: ['Input "image-tag-mutability" must be "MUTABLE" or "IMMUTABLE"', '(got "sometimes")']
  },
  {
    what: 'create-repository: yes',
    inputs: { 'create-repository': 'yes' },
    expected: ['Input "create-repository" must be "true" or "false"']
  },
  {
    what: 'skip-existing: 1',
    inputs: { 'skip-existing': '1' },
    expected: ['Input "skip-existing" must be "true" or "false"', '(got "1")']
  },
  {
    what: 'plain-http: on',
    inputs: { 'plain-http': 'on' },
    expected: ['Input "plain-http" must be "true" or "false"']
  },
  {
    what: 'max-parallel: 0',
    inputs: { 'max-parallel': '0' },
    expected: ['Input "max-parallel" must be a whole number from 1 to 32', '(got "0")']
  },
  {
    what: 'max-parallel: lots',
    inputs: { 'max-parallel': 'lots' },
    expected: ['Input "max-parallel" must be a whole number from 1 to 32']
  },
  // ---- credentials and TLS
  {
    what: 'username without password',
    inputs: { registry: 'registry.example.com', username: 'robot' },
    expected: ['Input "username" is set but "password" is empty', 'set both']
  },
  {
    what: 'password without username',
    inputs: { registry: 'registry.example.com', password: 'hunter2-secret' },
    expected: ['Input "password" is set but "username" is empty', 'set both']
  },
  {
    what: 'username and password without registry',
    inputs: { username: 'robot', password: 'hunter2-secret' },
    expected: ['Inputs "username" and "password" need "registry"']
  },
  {
    what: 'create-repository with username/password',
    inputs: {
      registry: 'registry.example.com',
      username: 'robot',
      password: 'hunter2-secret',
      'create-repository': 'true'
    },
    expected: ['Input "create-repository" needs AWS credentials', 'remove one of them']
  },
  {
    what: 'signing-passphrase without signing-key',
    inputs: { 'signing-passphrase': 'correct horse battery staple' },
    noAwsCall: true,
    expected: ['Input "signing-passphrase" is set but "signing-key" is empty', 'signing-key']
  },
  {
    what: 'ca-file that does not exist',
    inputs: { 'ca-file': '/nonexistent/ca.pem' },
    expected: [
      'Input "ca-file" names a file that does not exist (/nonexistent/ca.pem)',
      'check the path'
    ]
  },
  // ---- repository settings (issue 13)
  {
    what: 'repository-tags entry without "="',
    inputs: { 'create-repository': 'true', 'repository-tags': 'team, owner=me' },
    expected: ['Input "repository-tags" entry "team" is not key=value', 'team=platform']
  },
  {
    what: 'repository-tags key in the reserved aws: prefix',
    inputs: { 'create-repository': 'true', 'repository-tags': 'aws:owner=me' },
    expected: ['Input "repository-tags" key "aws:owner" starts with "aws:"', 'choose another key']
  },
  {
    what: 'repository-tags value with a character ECR refuses',
    inputs: { 'create-repository': 'true', 'repository-tags': 'team=a;b' },
    expected: ['Input "repository-tags" value "a;b" has a character ECR does not allow']
  },
  {
    what: 'lifecycle-policy file that does not exist',
    inputs: { 'create-repository': 'true', 'lifecycle-policy': 'ecr/lifecycle.json' },
    expected: [
      'Input "lifecycle-policy" names a file that does not exist (ecr/lifecycle.json)',
      'check the path'
    ]
  },
  {
    what: 'lifecycle-policy file that is not JSON',
    inputs: { 'create-repository': 'true', 'lifecycle-policy': 'lifecycle.json' },
    files: { 'lifecycle.json': `rules:\n  - rulePriority: 1\n${'#'.repeat(100)}\n` },
    expected: ['Input "lifecycle-policy" (lifecycle.json) is not valid JSON', 'fix the file']
  },
  {
    what: 'lifecycle-policy rule without an action',
    inputs: { 'create-repository': 'true', 'lifecycle-policy': 'lifecycle.json' },
    files: {
      'lifecycle.json': JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 5 }
          }
        ]
      })
    },
    expected: ['Input "lifecycle-policy" (lifecycle.json) rule 1 (rulePriority 1) needs "action"']
  },
  {
    what: 'pull-accounts with an 11-digit account id',
    inputs: { 'create-repository': 'true', 'pull-accounts': '11112222333' },
    expected: ['Input "pull-accounts" entry "11112222333" is not a 12-digit AWS account ID']
  },
  {
    what: 'pull-accounts with a malformed organisation id',
    inputs: { 'create-repository': 'true', 'pull-accounts': 'o-ABC' },
    expected: ['Input "pull-accounts" entry "o-ABC" is neither', 'o-a1b2c3d4e5']
  },
  {
    what: 'kms-key without create-repository',
    inputs: { 'kms-key': 'alias/ecr-charts' },
    expected: ['Input "kms-key" needs "create-repository: true"']
  },
  {
    what: 'kms-key that is not a key, alias or ARN',
    inputs: { 'create-repository': 'true', 'kms-key': 'my-key' },
    expected: ['Input "kms-key" must be a KMS key ID', '(got "my-key")']
  },
  {
    what: 'kms-key ARN in another partition than the registry',
    inputs: {
      'create-repository': 'true',
      'kms-key': 'arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/charts'
    },
    expected: [
      'Input "kms-key" is a key in aws-us-gov/us-gov-west-1, but the registry is in aws/eu-west-2'
    ]
  },
  {
    what: 'lifecycle-policy for ECR Public',
    inputs: {
      registry: 'public.ecr.aws',
      namespace: 'my-alias',
      'create-repository': 'true',
      'lifecycle-policy': 'lifecycle.json'
    },
    files: {
      'lifecycle.json': JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 5 },
            action: { type: 'expire' }
          }
        ]
      })
    },
    expected: ['Input "lifecycle-policy" cannot apply to Amazon ECR Public', 'remove it']
  },
  {
    what: 'repository-tags for an OCI registry with username/password',
    inputs: {
      registry: 'registry.example.com',
      username: 'robot',
      password: 'hunter2-secret',
      'repository-tags': 'team=platform'
    },
    expected: ['Input "repository-tags" sets up Amazon ECR repositories', 'remove it']
  },
  {
    what: 'no AWS credentials at all',
    env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
    expected: [
      'No AWS credentials found for ecr:GetAuthorizationToken',
      'configure-aws-credentials'
    ]
  }
]

/** A stack trace line as Node prints it: "    at fn (file:line:col)". */
const STACK_TRACE = /\n\s+at .+:\d+:\d+/

let stack: Stack
let toolCache: string
beforeAll(async () => {
  stack = await startStack({ helmVersions: [HELM_VERSIONS.v4] })
  // Every row starts from a tool cache that already holds the Helm it asks for.
  toolCache = await prewarmedToolCache([HELM_VERSIONS.v4, HELM_VERSIONS.v3_18])
})
afterAll(async () => {
  await stack?.stop()
})

async function workspaceFor(row: BadInput): Promise<string> {
  const root = await makeTempDir('bad')
  const workspace = path.join(root, 'ws')
  await makeChart(path.join(workspace, 'charts', 'good'), { name: 'good', version: '0.1.0' })
  for (const [file, text] of Object.entries(row.files ?? {})) {
    const target = path.resolve(workspace, file)
    await mkdir(path.dirname(target), { recursive: true })
    await writeFile(target, text)
  }
  for (const [link, target] of Object.entries(row.links ?? {})) {
    await mkdir(path.dirname(path.join(workspace, link)), { recursive: true })
    await symlink(target, path.join(workspace, link))
  }
  return workspace
}

describe('bad inputs', () => {
  test('the corpus has at least 30 rows, each with a distinct title', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30)
    expect(new Set(BAD_INPUTS.map(r => r.what)).size).toBe(BAD_INPUTS.length)
  })

  test('the documentation cites the corpus size', () => {
    // The reliability section, in the README or in docs/reliability.md once it moves there.
    const section = ['README.md', 'docs/reliability.md']
      .map(file => path.join(REPO_ROOT, file))
      .filter(file => existsSync(file))
      .map(
        file =>
          /<!-- reliability:begin -->([\s\S]*)<!-- reliability:end -->/.exec(
            readFileSync(file, 'utf8')
          )?.[1]
      )
      .find(text => text !== undefined)
    expect(section).toContain(`${BAD_INPUTS.length} bad-input cases`)
  })

  test.each(BAD_INPUTS)('$what', async row => {
    const workspace = await workspaceFor(row)
    const puts = manifestPuts(stack)
    const creates = stack.ecr.apiCalls.filter(c => /CreateRepository$/.test(c.op)).length
    const downloads = stack.mirror.downloads()
    const apiCalls = stack.ecr.apiCalls.length
    const inputs = Object.fromEntries(
      Object.entries(row.inputs ?? {}).map(([k, v]) => [
        k,
        v === MIRROR_HTTP ? stack.mirror.httpUrl : v
      ])
    )
    const result = await runAction({
      workspace,
      toolCache,
      env: { ...stack.actionEnv, ...row.env },
      inputs: {
        charts: 'charts/good',
        'helm-version': HELM_VERSIONS.v4,
        'helm-download-url': stack.mirror.url,
        ...inputs
      },
      timeoutMs: 60_000
    })
    const errors = errorLines(result.stdout)
    expect(errors, result.stdout + result.stderr).toHaveLength(1)
    const [line] = errors
    expect(line).not.toContain('\n')
    for (const part of row.expected) {
      if (typeof part === 'string') expect(line).toContain(part)
      else expect(line).toMatch(part)
    }
    expect(result.exitCode).toBe(1)
    expect(result.timedOut).toBe(false)
    expect(`${result.stdout}\n${result.stderr}`).not.toMatch(STACK_TRACE)
    expect(result.stderr.trim()).toBe('')
    // The post step cleans up quietly.
    expect(result.post?.exitCode ?? 0).toBe(0)
    expect(errorLines(result.post?.stdout ?? '')).toEqual([])
    expect(manifestPuts(stack)).toBe(puts)
    expect(stack.ecr.apiCalls.filter(c => /CreateRepository$/.test(c.op))).toHaveLength(creates)
    expect(stack.mirror.downloads()).toEqual(downloads)
    if (row.noAwsCall) expect(stack.ecr.apiCalls.length).toBe(apiCalls)
    if (row.chartFailure) {
      const [chart] = JSON.parse(result.outputs.charts) as { pushed: boolean; error?: string }[]
      expect(chart).toMatchObject({ pushed: false, error: line })
    } else {
      expect(result.outputs.pushed).toBeUndefined()
    }
  })
})
