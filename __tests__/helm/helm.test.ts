import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it, test } from 'vitest'
import { Helm } from '../../src/helm/helm.js'
import type { TlsOptions } from '../../src/config/inputs.js'
import {
  HelmCommandError,
  classifyHelmError,
  helmErrorLine,
  helmWarnings,
  loginSecrets,
  parsePackageOutput,
  parsePushOutput,
  passwordFromStdin,
  type HelmErrorKind
} from '../../src/helm/helm-output.js'
import { FakeHelm, fakeDigest } from '../fixtures/fake-helm.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const UNIT_OUTPUTS = path.join(here, '..', 'fixtures', 'helm-output-unit')
const RECORDED_OUTPUTS = path.join(here, '..', 'fixtures', 'helm-output')

const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const DIGEST = 'sha256:666e343afefe30f8b87c265b29845d9a19025cf694deca10bfefbe945fe56771'
const CA = '/etc/ssl/registry-ca.pem'

function output(name: string): string {
  return readFileSync(path.join(UNIT_OUTPUTS, name), 'utf8')
}

/** A HelmResult with the fixture on the stream its file name says. */
function result(name: string, exitCode = 0) {
  const text = output(name)
  return name.includes('.stdout.')
    ? { exitCode, stdout: text, stderr: '' }
    : { exitCode, stdout: '', stderr: text }
}

const NO_TLS: TlsOptions = { plainHttp: false, insecureSkipTlsVerify: false }
const TLS: Record<string, TlsOptions> = {
  none: NO_TLS,
  plain: { ...NO_TLS, plainHttp: true },
  insecure: { ...NO_TLS, insecureSkipTlsVerify: true },
  ca: { ...NO_TLS, caFile: CA },
  all: { plainHttp: true, insecureSkipTlsVerify: true, caFile: CA }
}

const helmAt = (version: string, tls: TlsOptions) =>
  new Helm({ path: '/usr/bin/helm', version: version, env: {}, tls: tls })

describe('registry flags by Helm version (argv)', () => {
  const insecure = '--insecure'
  const skip = '--insecure-skip-tls-verify'
  const plain = '--plain-http'
  const ca = ['--ca-file', CA]

  // version, TLS combination, login flags, push flags, unsupported inputs
  test.each<[string, string, string[], string[], string[]]>([
    ['v3.9.4', 'none', [], [], []],
    ['v3.9.4', 'plain', [insecure], [], ['plain-http (Helm 3.13+)']],
    ['v3.9.4', 'insecure', [insecure], [], ['insecure-skip-tls-verify (Helm 3.12+)']],
    ['v3.9.4', 'ca', [], [], ['ca-file (Helm 3.12+)']],
    [
      'v3.9.4',
      'all',
      [insecure],
      [],
      ['plain-http (Helm 3.13+)', 'ca-file (Helm 3.12+)', 'insecure-skip-tls-verify (Helm 3.12+)']
    ],
    ['v3.12.0', 'none', [], [], []],
    ['v3.12.0', 'plain', [insecure], [], ['plain-http (Helm 3.13+)']],
    ['v3.12.0', 'insecure', [insecure], [skip], []],
    ['v3.12.0', 'ca', ca, ca, []],
    ['v3.12.0', 'all', [insecure, ...ca], [skip, ...ca], ['plain-http (Helm 3.13+)']],
    ['v3.13.0', 'none', [], [], []],
    ['v3.13.0', 'plain', [insecure], [plain], []],
    ['v3.13.0', 'insecure', [insecure], [skip], []],
    ['v3.13.0', 'ca', ca, ca, []],
    ['v3.13.0', 'all', [insecure, ...ca], [plain, skip, ...ca], []],
    ['v3.18.0', 'none', [], [], []],
    ['v3.18.0', 'plain', [plain], [plain], []],
    ['v3.18.0', 'insecure', [insecure], [skip], []],
    ['v3.18.0', 'ca', ca, ca, []],
    ['v3.18.0', 'all', [plain, insecure, ...ca], [plain, skip, ...ca], []],
    ['v4.1.4', 'none', [], [], []],
    ['v4.1.4', 'plain', [plain], [plain], []],
    ['v4.1.4', 'insecure', [insecure], [skip], []],
    ['v4.1.4', 'ca', ca, ca, []],
    ['v4.1.4', 'all', [plain, insecure, ...ca], [plain, skip, ...ca], []]
  ])('Helm %s with TLS %s', (version, tls, loginFlags, pushFlags, unsupported) => {
    const helm = helmAt(version, TLS[tls])
    expect(helm.registryFlags('login')).toEqual(loginFlags)
    expect(helm.registryFlags('push')).toEqual(pushFlags)
    expect(helm.registryFlags('pull')).toEqual(pushFlags)
    expect(helm.loginArgs(HOST, 'AWS')).toEqual([
      'registry',
      'login',
      HOST,
      '--username',
      'AWS',
      '--password-stdin',
      ...loginFlags
    ])
    expect(helm.pushArgs('/tmp/w/mychart-0.1.0.tgz', `oci://${HOST}/charts`)).toEqual([
      'push',
      '/tmp/w/mychart-0.1.0.tgz',
      `oci://${HOST}/charts`,
      ...pushFlags
    ])
    // package never talks to the registry: no TLS flags, whatever the version
    expect(helm.packageArgs('/ws/charts/mychart', '/tmp/w')).toEqual([
      'package',
      '/ws/charts/mychart',
      '--destination',
      '/tmp/w'
    ])
    expect(helm.unsupportedTlsInputs()).toEqual(unsupported)
    // never a password on the command line
    expect(helm.loginArgs(HOST, 'AWS')).not.toContain('--password')
    expect(helm.loginArgs(HOST, 'AWS')).not.toContain('-p')
  })

  test.each(['v3.9.4', 'v3.12.0', 'v3.13.0', 'v3.18.0', 'v4.1.4'])(
    'Helm %s packageArgs with version and app version',
    version => {
      const helm = helmAt(version, TLS.all)
      expect(helm.packageArgs('/c', '/d', '1.2.3+build.5', '2.0')).toEqual([
        'package',
        '/c',
        '--destination',
        '/d',
        '--version',
        '1.2.3+build.5',
        '--app-version',
        '2.0'
      ])
      expect(helm.packageArgs('/c', '/d', undefined, '2.0')).toEqual([
        'package',
        '/c',
        '--destination',
        '/d',
        '--app-version',
        '2.0'
      ])
    }
  )

  test.each([
    ['v3.9.4', '3.9.4'],
    ['v3.18.0', '3.18.0'],
    ['v4.1.4', '4.1.4'],
    ['4.2.1', '4.2.1']
  ])('%s: semver %s', (version, semver) => {
    const helm = helmAt(version, NO_TLS)
    expect(helm.semver).toBe(semver)
  })
})

describe('parsePushOutput', () => {
  test.each([
    'push-ok.helm-3.9.4.stdout.txt',
    'push-ok.helm-3.18.0.stderr.txt',
    'push-ok.helm-4.1.4.stderr.txt',
    'push-ok.helm-4.2.1.stdout.txt'
  ])('%s', name => {
    expect(parsePushOutput(output(name))).toEqual({
      pushed: `${HOST}/charts/mychart:0.1.0`,
      digest: DIGEST
    })
  })

  test.each(['push-underscore.helm-3.18.0.stderr.txt', 'push-underscore.helm-4.2.1.stdout.txt'])(
    '%s (tag with an underscore and the explanation after it)',
    name => {
      expect(parsePushOutput(output(name))).toEqual({
        pushed: `${HOST}/charts/mychart:1.2.3_build.5`,
        digest: DIGEST
      })
    }
  )

  it('finds the lines with stdout and stderr joined in either order', () => {
    const { stdout, stderr } = result('push-ok.helm-3.18.0.stderr.txt')
    expect(parsePushOutput(`${stdout}\n${stderr}`)?.digest).toBe(DIGEST)
    expect(parsePushOutput(`${stderr}\n${stdout}`)?.digest).toBe(DIGEST)
  })

  it('tolerates CRLF and Helm 4 log lines around the result', () => {
    const text = `time=2026-01-01T00:00:00Z level=WARN msg="something"\r\nPushed: ${HOST}/c:1.0.0\r\nDigest: ${DIGEST}\r\n`
    expect(parsePushOutput(text)).toEqual({ pushed: `${HOST}/c:1.0.0`, digest: DIGEST })
  })

  test.each([
    ['', 'nothing'],
    [`Pushed: ${HOST}/c:1.0.0\n`, 'no digest'],
    [`Digest: ${DIGEST}\n`, 'no Pushed line'],
    [`Pushed: ${HOST}/c:1.0.0\nDigest: sha256:abc\n`, 'a short digest'],
    [`Pulled: ${HOST}/c:1.0.0\nDigest: ${DIGEST}\n`, 'a pull'],
    [output('push-missing-repository.helm-4.1.4.stderr.txt'), 'an error']
  ])('%j (%s) -> undefined', text => {
    expect(parsePushOutput(text)).toBeUndefined()
  })
})

describe('parsePackageOutput', () => {
  it('reads the archive path', () => {
    expect(parsePackageOutput(output('package-ok.helm-3.18.0.stdout.txt'))).toBe(
      '/home/runner/work/_temp/helm-ecr-publish-Ab12Cd/mychart-x1Y2z3/mychart-1.2.3+build.5.tgz'
    )
  })

  it('keeps spaces inside the path and drops CR', () => {
    expect(
      parsePackageOutput(
        'Successfully packaged chart and saved it to: C:\\Users\\runner admin\\t\\c-1.0.0.tgz\r\n'
      )
    ).toBe('C:\\Users\\runner admin\\t\\c-1.0.0.tgz')
  })

  it('skips warnings before the line', () => {
    expect(
      parsePackageOutput(
        'walk.go:75: found symbolic link in path\nSuccessfully packaged chart and saved it to: /t/c-1.0.0.tgz\n'
      )
    ).toBe('/t/c-1.0.0.tgz')
  })

  it('is undefined without the line', () => {
    expect(parsePackageOutput('')).toBeUndefined()
    expect(parsePackageOutput('Error: Chart.yaml file is missing')).toBeUndefined()
  })
})

describe('classifyHelmError', () => {
  test.each<[string, HelmErrorKind]>([
    ['push-missing-repository.helm-3.18.0.stderr.txt', 'missing-repository'],
    ['push-missing-repository.helm-4.1.4.stderr.txt', 'missing-repository'],
    ['push-immutable.helm-4.1.4.stderr.txt', 'immutable'],
    ['push-denied.helm-4.1.4.stderr.txt', 'auth'],
    ['push-unauthorized.helm-3.18.0.stderr.txt', 'auth'],
    ['push-tag-not-found.helm-4.1.4.stderr.txt', 'transient'],
    ['push-503.helm-3.18.0.stderr.txt', 'transient'],
    ['login-connection-refused.helm-4.1.4.stderr.txt', 'transient'],
    ['push-directory.helm-4.1.4.stderr.txt', 'other'],
    ['push-strict-mode.helm-3.18.0.stderr.txt', 'other']
  ])('%s -> %s', (name, kind) => {
    expect(classifyHelmError(output(name))).toBe(kind)
  })

  test.each<[string, HelmErrorKind]>([
    ['NAME_UNKNOWN: repository name not known to registry', 'missing-repository'],
    ['name unknown: repository name not known to registry', 'missing-repository'],
    ['TAG_INVALID: tag already exists', 'immutable'],
    ['unexpected status: 401 Unauthorized', 'auth'],
    // Helm 3.8-3.17 (ORAS v1) print bare statuses
    ['Error: unexpected status: 404 Not Found\n', 'missing-repository'],
    ['unexpected status: 404 Not Found', 'missing-repository'],
    [
      `Error: failed commit on ref "manifest-${DIGEST}": unexpected status: 400 Bad Request`,
      'manifest-refused'
    ],
    [`Error: failed commit on ref "layer-${DIGEST}": unexpected status: 400 Bad Request`, 'other'],
    ['unexpected status: 403 Forbidden', 'auth'],
    ['no basic auth credentials', 'auth'],
    ['basic credential not found', 'auth'],
    ['response status code 429: toomanyrequests: Rate exceeded', 'transient'],
    // Recorded in e2e (concurrency.test.ts, Helm 3.18.0): two runs racing the same blobs.
    [
      'Error: PUT "https://127.0.0.1:34815/v2/imm-same-3180/racer/manifests/1.0.0": response status code 400: digest invalid: provided digest did not match uploaded content; manifest blob unknown: blob unknown to registry: sha256:c9e07d6ef9932a4fc4d92feb41687e47c689c3a7c00f61aaa98b7925edb563c8',
      'transient'
    ],
    ['response status code 502: Bad Gateway', 'transient'],
    ['read tcp 10.0.0.1:443: read: connection reset by peer', 'transient'],
    ['Put "https://h/v2/c/blobs/uploads/x": unexpected EOF', 'transient'],
    ['Post "https://h/v2/": EOF', 'transient'],
    ['dial tcp: lookup h on 127.0.0.53:53: server misbehaving', 'transient'],
    ['net/http: TLS handshake timeout', 'transient'],
    ['dial tcp 1.2.3.4:443: i/o timeout', 'transient'],
    // Helm 3.18.0 prints the Tag-step flake without the "failed to perform" prefix (e2e recording)
    [`Error: ${DIGEST}: not found`, 'transient'],
    [`${DIGEST}: not found`, 'transient'],
    [
      `failed commit on ref "manifest-${DIGEST.replace(':', '-')}": unexpected status: 404 Not Found`,
      'other'
    ],
    ['tls: failed to verify certificate: x509: certificate signed by unknown authority', 'other'],
    ['dial tcp: lookup nohost.invalid: no such host', 'other'],
    ['', 'other']
  ])('%j -> %s', (text, kind) => {
    expect(classifyHelmError(text)).toBe(kind)
  })
})

describe('helmErrorLine', () => {
  it('takes the Error: line without its prefix', () => {
    expect(helmErrorLine(result('push-immutable.helm-4.1.4.stderr.txt', 1))).toBe(
      `failed to perform "Tag" on destination: PUT "https://${HOST}/v2/charts/mychart/manifests/0.1.0": response status code 400: tag invalid: The image tag '0.1.0' already exists in the 'charts/mychart' repository and cannot be overwritten because the repository is immutable.`
    )
  })

  it('prefers the Error: line over warnings and log lines', () => {
    expect(
      helmErrorLine({
        exitCode: 1,
        stdout: 'Pushed nothing\n',
        stderr:
          'WARNING: Kubernetes configuration file is group-readable.\nError: boom   happened\nlevel=INFO msg=later\n'
      })
    ).toBe('boom happened')
  })

  it('falls back to the last non-empty line (stdout after stderr)', () => {
    expect(helmErrorLine({ exitCode: 2, stdout: 'out line\n\n', stderr: 'err line\n' })).toBe(
      'out line'
    )
    expect(helmErrorLine({ exitCode: 2, stdout: '', stderr: 'a\nb\n  \n' })).toBe('b')
  })

  it('names the exit code when Helm printed nothing', () => {
    expect(helmErrorLine({ exitCode: 137, stdout: '', stderr: '\n' })).toBe(
      'helm exited with code 137'
    )
  })
})

describe('HelmCommandError', () => {
  it('is one line naming the command, and classifies both streams', () => {
    const error = new HelmCommandError('push', {
      exitCode: 1,
      stdout: 'something\n',
      stderr: output('push-missing-repository.helm-4.1.4.stderr.txt')
    })
    expect(error.message).toMatch(/^helm push failed: failed to perform "Push" on destination: /)
    expect(error.message).not.toContain('\n')
    expect(error.kind).toBe('missing-repository')
    expect(
      new HelmCommandError('push', { exitCode: 1, stdout: 'unauthorized', stderr: '' }).kind
    ).toBe('auth')
  })
})

describe('Helm against a fake helm binary', () => {
  let tmp: string
  let fake: FakeHelm
  let n = 0

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'helm-test-'))
  })
  afterAll(async () => {
    await fs.rm(tmp, { recursive: true, force: true })
  })
  beforeEach(async () => {
    fake = await FakeHelm.create(path.join(tmp, `fake-${n++}`))
  })

  const PASSWORD = 'eyJwYXlsb2FkIjoi-secret+/=\twith spaces'

  // The argv Helm receives, written out (TLS.all): login flags differ by version.
  test.each<[string, string[]]>([
    ['v3.9.4', ['--insecure']],
    ['v3.18.0', ['--plain-http', '--insecure', '--ca-file', CA]],
    ['v4.1.4', ['--plain-http', '--insecure', '--ca-file', CA]]
  ])('Helm %s: registryLogin passes the password on stdin only', async (version, flags) => {
    const argv = ['registry', 'login', HOST, '--username', 'AWS', '--password-stdin', ...flags]
    const lines: string[] = []
    const helm = new Helm({
      path: fake.path,
      version: version,
      env: fake.env,
      tls: TLS.all,
      log: (line: string) => lines.push(line)
    })
    await helm.registryLogin(HOST, 'AWS', PASSWORD)
    const [call] = await fake.calls()
    expect(call.argv).toEqual(argv)
    expect(call.stdin).toBe(PASSWORD)
    expect(call.argv.join(' ')).not.toContain(PASSWORD)
    expect(call.argv.some(arg => arg.includes('secret'))).toBe(false)
    // the debug log shows the command, never the password
    expect(lines).toEqual([`helm ${argv.join(' ')}`])
    expect(lines.join('\n')).not.toContain('secret')
  })

  it('registryLogin failures throw a HelmCommandError with the kind', async () => {
    await fake.failLogin(
      'Error: login attempt to https://h/v2/ failed with status: 401 Unauthorized'
    )
    const helm = new Helm({ path: fake.path, version: 'v3.18.0', env: fake.env })
    const error = await helm.registryLogin('h', 'u', 'p').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HelmCommandError)
    expect((error as HelmCommandError).message).toBe(
      'helm registry login failed: login attempt to https://h/v2/ failed with status: 401 Unauthorized'
    )
    expect((error as HelmCommandError).kind).toBe('auth')
    expect((error as HelmCommandError).message).not.toContain('p\n')
  })

  test.each(['stderr', 'stdout'])('push reads Pushed:/Digest: from %s', async stream => {
    const archive = path.join(fake.dir, 'mychart-1.2.3+build.5.tgz')
    await fs.writeFile(archive, 'mychart 1.2.3+build.5\n')
    const helm = new Helm({
      path: fake.path,
      version: 'v4.1.4',
      env: { ...fake.env, HELM_FAKE_STREAM: stream },
      tls: TLS.plain
    })
    expect(await helm.push(archive, `oci://${HOST}/charts`)).toEqual({
      pushed: `${HOST}/charts/mychart:1.2.3_build.5`,
      digest: fakeDigest('mychart', '1.2.3+build.5')
    })
    const [call] = await fake.calls()
    expect(call.argv).toEqual(['push', archive, `oci://${HOST}/charts`, '--plain-http'])
    expect(call.stdin).toBeUndefined()
  })

  it('push without a result in the output is an error', async () => {
    const script = path.join(fake.dir, 'quiet-helm')
    await fs.writeFile(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 })
    const helm = new Helm({ path: script, version: 'v3.18.0', env: fake.env })
    await expect(helm.push('/x.tgz', 'oci://h')).rejects.toThrow(
      'helm push failed: helm push printed no "Pushed:" and "Digest:" lines'
    )
  })

  it('push failures keep the registry text', async () => {
    const archive = path.join(fake.dir, 'mychart-0.1.0.tgz')
    await fs.writeFile(archive, 'mychart 0.1.0\n')
    await fake.failPush('mychart', 1, output('push-immutable.helm-4.1.4.stderr.txt').trim())
    const helm = new Helm({ path: fake.path, version: 'v4.1.4', env: fake.env })
    const error = (await helm
      .push(archive, `oci://${HOST}`)
      .catch((e: unknown) => e)) as HelmCommandError
    expect(error).toBeInstanceOf(HelmCommandError)
    expect(error.kind).toBe('immutable')
    expect(error.result.exitCode).toBe(1)
  })

  it('package returns the archive path and passes version overrides', async () => {
    const chart = path.join(fake.dir, 'charts', 'mychart')
    await fs.mkdir(chart, { recursive: true })
    await fs.writeFile(
      path.join(chart, 'Chart.yaml'),
      'apiVersion: v2\nname: mychart\nversion: 0.1.0\n'
    )
    const dest = path.join(fake.dir, 'out')
    await fs.mkdir(dest)
    const helm = new Helm({ path: fake.path, version: 'v3.18.0', env: fake.env, tls: TLS.all })
    expect(await helm.package(chart, dest, '2.0.0', '9.9')).toBe(
      path.join(dest, 'mychart-2.0.0.tgz')
    )
    const [call] = await fake.calls()
    expect(call.argv).toEqual([
      'package',
      chart,
      '--destination',
      dest,
      '--version',
      '2.0.0',
      '--app-version',
      '9.9'
    ])
  })

  it('package without the success line is an error', async () => {
    const script = path.join(fake.dir, 'odd-helm')
    await fs.writeFile(script, '#!/bin/sh\necho "something else"\n', { mode: 0o755 })
    await expect(
      new Helm({ path: script, version: 'v3.18.0', env: fake.env }).package('/c', '/d')
    ).rejects.toThrow('helm package failed: something else')
  })

  it('a non-zero exit fails with the Error: line', async () => {
    const script = path.join(fake.dir, 'failing-helm')
    await fs.writeFile(
      script,
      '#!/bin/sh\necho "Error: chart.metadata.version \\"x\\" is invalid" >&2\nexit 1\n',
      { mode: 0o755 }
    )
    await expect(
      new Helm({ path: script, version: 'v3.18.0', env: fake.env }).package('/c', '/d')
    ).rejects.toThrow('helm package failed: chart.metadata.version "x" is invalid')
  })

  test.each([
    [true, 'build'],
    [false, 'update']
  ])('dependencyBuild with Chart.lock %s runs dependency %s', async (hasLock, verb) => {
    const chart = path.join(fake.dir, 'c')
    await fs.mkdir(chart)
    await fs.writeFile(path.join(chart, 'Chart.yaml'), 'name: c\nversion: 1.0.0\n')
    await new Helm({ path: fake.path, version: 'v3.18.0', env: fake.env }).dependencyBuild(
      chart,
      hasLock
    )
    expect((await fake.calls())[0].argv).toEqual(['dependency', verb, chart])
  })

  it('showChart returns Chart.yaml', async () => {
    const archive = path.join(fake.dir, 'c-1.0.0.tgz')
    await fs.writeFile(archive, 'c 1.0.0\n')
    expect(
      await new Helm({ path: fake.path, version: 'v3.18.0', env: fake.env }).showChart(archive)
    ).toBe('apiVersion: v2\nname: c\nversion: 1.0.0\n')
  })

  describe('pull', () => {
    async function pullHelm(body: string) {
      const script = path.join(fake.dir, 'pull-helm')
      await fs.writeFile(
        script,
        `#!/bin/sh\nfor a in "$@"; do echo "$a"; done > "${fake.dir}/pull-argv"\n${body}\n`,
        {
          mode: 0o755
        }
      )
      return new Helm({ path: script, version: 'v4.1.4', env: fake.env, tls: TLS.ca })
    }

    it('reads the digest of a pulled chart and passes the pull flags', async () => {
      const helm = await pullHelm(`echo "Pulled: h/ns/c:1.0.0" >&2\necho "Digest: ${DIGEST}" >&2`)
      expect((await helm.pull('oci://h/ns', 'c', '1.0.0', '/tmp/d'))?.digest).toBe(DIGEST)
      expect(
        (await fs.readFile(path.join(fake.dir, 'pull-argv'), 'utf8')).trim().split('\n')
      ).toEqual([
        'pull',
        'oci://h/ns/c',
        '--version',
        '1.0.0',
        '--destination',
        '/tmp/d',
        '--ca-file',
        CA
      ])
    })

    test.each([
      'Error: failed to perform "FetchReference" on source: GET "https://h/v2/ns/c/manifests/1.0.0": response status code 404: manifest unknown: manifest unknown',
      'Error: h/ns/c:1.0.0: not found',
      'Error: name unknown: repository name not known to registry'
    ])('a missing chart gives undefined: %s', async text => {
      const helm = await pullHelm(`echo '${text}' >&2\nexit 1`)
      expect(await helm.pull('oci://h/ns', 'c', '1.0.0', '/tmp/d')).toBeUndefined()
    })

    it('other failures throw', async () => {
      const helm = await pullHelm(`echo 'Error: unexpected status: 401 Unauthorized' >&2\nexit 1`)
      await expect(helm.pull('oci://h/ns', 'c', '1.0.0', '/tmp/d')).rejects.toThrow(
        'helm pull failed: unexpected status: 401 Unauthorized'
      )
    })
  })
})

/**
 * Real outputs recorded by the e2e suite (`__tests__/fixtures/helm-output/<version>-<case>.txt`,
 * written by __tests__/e2e/infra.test.ts): header lines `# ...` with `# exit code: N`, then
 * `--- stdout ---`, `--- stderr ---`, `--- end ---` sections. Checked when they exist.
 */
interface Recording {
  file: string
  version: string
  name: string
  exitCode: number
  stdout: string
  stderr: string
}

function readRecordings(dir: string): Recording[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter(file => file.endsWith('.txt') && statSync(path.join(dir, file)).isFile())
    .flatMap(file => {
      const id = /^(\d+\.\d+\.\d+)-(.+)\.txt$/.exec(file)
      const text = readFileSync(path.join(dir, file), 'utf8')
      const body =
        /# exit code: (\d+)[\s\S]*?\n--- stdout ---\n([\s\S]*?)--- stderr ---\n([\s\S]*?)--- end ---/.exec(
          text
        )
      if (!id || !body) return []
      return [
        {
          file,
          version: id[1],
          name: id[2],
          exitCode: Number(body[1]),
          stdout: body[2],
          stderr: body[3]
        }
      ]
    })
}

const recordings = readRecordings(RECORDED_OUTPUTS)

/** What each recorded failure must classify as; Helm 3.9's ORAS v1 prints only a bare status. */
const EXPECTED_KIND: Record<string, Record<string, HelmErrorKind>> = {
  'login-unauthorized': { '3.9.4': 'auth', '3.18.0': 'auth', '4.1.4': 'auth' },
  'push-token-expired': { '3.9.4': 'auth', '3.18.0': 'auth', '4.1.4': 'auth' },
  // 3.9.4 prints only "Error: unexpected status: 404 Not Found"
  'push-name-unknown': {
    '3.9.4': 'missing-repository',
    '3.18.0': 'missing-repository',
    '4.1.4': 'missing-repository'
  },
  // 3.9.4: "failed commit on ref ...: unexpected status: 400 Bad Request", no reason shown
  'push-tag-immutable': {
    '3.9.4': 'manifest-refused',
    '3.18.0': 'immutable',
    '4.1.4': 'immutable'
  },
  // 3.9.4: "failed commit on ref ...: unexpected status: 404 Not Found": not a missing repository
  'push-tag-step-not-found': { '3.9.4': 'other', '3.18.0': 'transient', '4.1.4': 'transient' },
  'push-blob-upload-503': { '3.9.4': 'transient', '3.18.0': 'transient', '4.1.4': 'transient' },
  'push-connection-reset': { '3.9.4': 'transient', '3.18.0': 'transient', '4.1.4': 'transient' },
  // Helm 3.18.0 cannot push a version with "+" ("Error: not found"); nothing to retry
  'push-plus-version': { '3.18.0': 'other' }
}

describe.runIf(recordings.length > 0)('recorded Helm outputs (e2e fixtures)', () => {
  test.each(recordings.filter(r => r.name.startsWith('push-success')).map(r => [r.file, r]))(
    '%s: Pushed/Digest on the stream of its version',
    (_file, r) => {
      const stream = r.version.startsWith('3.9.') ? r.stdout : r.stderr
      expect(r.exitCode).toBe(0)
      expect(parsePushOutput(stream)).toEqual({
        pushed: expect.stringMatching(/^127\.0\.0\.1:5000\/[a-z0-9-]+\/demo:1\.2\.3$/),
        digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/)
      })
      // Helm.push joins both streams
      expect(parsePushOutput(`${r.stdout}\n${r.stderr}`)).toEqual(parsePushOutput(stream))
    }
  )

  test.each(
    recordings.filter(r => r.name === 'push-plus-version' && r.exitCode === 0).map(r => [r.file, r])
  )('%s: "+" becomes "_" in the tag; the underscore note does not confuse parsing', (_file, r) => {
    const stream = r.version.startsWith('3.9.') ? r.stdout : r.stderr
    expect(parsePushOutput(stream)).toEqual({
      pushed: expect.stringMatching(/^127\.0\.0\.1:5000\/[a-z0-9-]+\/plus:1\.0\.0_build\.5$/),
      digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/)
    })
    // the reconstructed unit fixture has the same shape
    const unit = output('push-underscore.helm-3.18.0.stderr.txt')
    expect(stream.split('\n').slice(2)).toEqual(
      unit
        .replaceAll(`${HOST}/charts/mychart:1.2.3_build.5`, stream.split('\n')[0].slice(8))
        .split('\n')
        .slice(2)
    )
  })

  test.each(recordings.filter(r => r.name === 'login-success').map(r => [r.file, r]))(
    '%s: Login Succeeded',
    (_file, r) => {
      expect(r.exitCode).toBe(0)
      expect(r.version.startsWith('3.9.') ? r.stdout : r.stderr).toContain('Login Succeeded')
    }
  )

  const failures = recordings.filter(r => EXPECTED_KIND[r.name]?.[r.version])
  test.each(failures.map(r => [r.file, EXPECTED_KIND[r.name][r.version], r] as const))(
    '%s -> %s',
    (_file, kind, r) => {
      expect(r.exitCode).not.toBe(0)
      const error = new HelmCommandError('push', r)
      expect(error.kind).toBe(kind)
      expect(error.message).toMatch(/^helm push failed: \S/)
      expect(error.message).not.toMatch(/Error:|\n/)
      expect(parsePushOutput(`${r.stdout}\n${r.stderr}`)).toBeUndefined()
    }
  )
})

describe('the environment of Helm', () => {
  it('is the allow-listed one: no INPUT_*, AWS credentials or runner tokens', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helm-env-'))
    const script = path.join(dir, 'helm')
    const out = path.join(dir, 'env.json')
    await fs.writeFile(
      script,
      `#!/usr/bin/env node\nrequire('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.env))\n`,
      { mode: 0o755 }
    )
    try {
      const helm = new Helm({
        path: script,
        version: 'v3.18.0',
        env: {
          PATH: process.env.PATH ?? '',
          HELM_REGISTRY_CONFIG: '/tmp/c.json',
          AWS_SECRET_ACCESS_KEY: 'secret',
          GITHUB_TOKEN: 'ghs',
          INPUT_PASSWORD: 'hunter2'
        }
      })
      expect((await helm.run(['version'])).exitCode).toBe(0)
      const seen = JSON.parse(await fs.readFile(out, 'utf8')) as Record<string, string>
      expect(seen.HELM_REGISTRY_CONFIG).toBe('/tmp/c.json')
      for (const name of ['AWS_SECRET_ACCESS_KEY', 'GITHUB_TOKEN', 'INPUT_PASSWORD']) {
        expect(seen[name], name).toBeUndefined()
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})

describe('classifyHelmError ignores names inside URLs and quotes', () => {
  test.each([
    [
      'Error: failed to perform "Push" on destination: POST "https://h/v2/immutable-charts/app/blobs/uploads/": response status code 503: Service Unavailable',
      'transient'
    ],
    [
      'Error: POST "https://h/v2/denied/unauthorized-app/blobs/uploads/": response status code 502: Bad Gateway',
      'transient'
    ],
    [
      'Error: failed to perform "Push" on destination: POST "https://h/v2/team/immutable/blobs/uploads/": response status code 404: name unknown: The repository with name \'team/immutable\' does not exist in the registry with id \'123456789012\'',
      'missing-repository'
    ],
    [
      'Error: failed to perform "Tag" on destination: PUT "https://h/v2/x/eof/manifests/1.0.0": response status code 400: tag invalid: The image tag \'1.0.0\' already exists in the \'x/eof\' repository and cannot be overwritten because the repository is immutable.',
      'immutable'
    ]
  ])('%s -> %s', (output, kind) => {
    expect(classifyHelmError(output)).toBe(kind)
  })
})

describe('what helm registry login --password-stdin stores', () => {
  test.each([
    ['pw', 'pw'],
    ['pw\n', 'pw'],
    ['pw\r\n', 'pw'],
    ['pw\r', 'pw'],
    ['pw\n\n', 'pw\n'],
    ['pw\n\r', 'pw\n'],
    [' pw ', ' pw ']
  ])('%j is kept as %j', (input, kept) => {
    expect(passwordFromStdin(input)).toBe(kept)
  })

  it('masks the password as given and as kept, and both auth values', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    expect(loginSecrets('ci', 'pw\r\n').sort()).toEqual(
      ['pw\r\n', 'pw', b64('ci:pw'), b64('ci:pw\r\n')].sort()
    )
    expect(loginSecrets('AWS', 'tok')).toEqual(['tok', b64('AWS:tok')])
  })
})

describe('helmWarnings', () => {
  test.each([
    [
      // Helm 3.9.4 and 3.18.0 (log.Lshortfile), recorded from helm package of a chart with a link.
      'walk.go:74: found symbolic link in path: /ws/c/templates/NOTES.txt resolves to /ws/shared/NOTES.txt. Contents of linked file included and used\n',
      [
        'found symbolic link in path: /ws/c/templates/NOTES.txt resolves to /ws/shared/NOTES.txt. Contents of linked file included and used'
      ]
    ],
    [
      // Helm 4.1.4 logs links at INFO.
      'level=INFO msg="found symbolic link in path. Contents of linked file included and used" path=/ws/c/templates/NOTES.txt resolved=/ws/shared/NOTES.txt\n',
      [
        'found symbolic link in path. Contents of linked file included and used (path=/ws/c/templates/NOTES.txt resolved=/ws/shared/NOTES.txt)'
      ]
    ],
    [
      'time=2026-01-01T00:00:00Z level=WARN msg="registry login currently only supports registry hostname, not a repository path"\n',
      ['registry login currently only supports registry hostname, not a repository path']
    ],
    [
      'WARNING: Kubernetes configuration file is group-readable. This is insecure. Location: /root/.kube/config\n',
      [
        'Kubernetes configuration file is group-readable. This is insecure. Location: /root/.kube/config'
      ]
    ],
    ['level=INFO msg="pulled" ref=x\nLogin Succeeded\nError: boom\n', []],
    ['level=DEBUG msg=resolving\n', []]
  ])('%j -> %j', (output, warnings) => {
    expect(helmWarnings(output)).toEqual(warnings)
  })

  it('Helm passes each warning to warn once per instance', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helm-warn-'))
    const script = path.join(dir, 'helm')
    await fs.writeFile(
      script,
      '#!/bin/sh\necho "WARNING: twice" >&2\necho "WARNING: twice" >&2\n',
      {
        mode: 0o755
      }
    )
    try {
      const warnings: string[] = []
      const helm = new Helm({
        path: script,
        version: 'v3.18.0',
        env: { PATH: process.env.PATH ?? '' },
        warn: w => warnings.push(w)
      })
      await helm.run(['version'])
      await helm.run(['version'])
      expect(warnings).toEqual(['twice'])
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
