import { describe, expect, it } from 'vitest'
import { childEnv, isChildVariable, isToolVariable } from '../../src/runtime/child-env.js'

/** A runner's environment: what a GitHub-hosted or self-hosted job step sees. */
const RUNNER_ENV: Record<string, string> = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/runner',
  HELM_CACHE_HOME: '/home/runner/.cache/helm',
  HELM_KUBETOKEN: 'k8s-bearer',
  HTTPS_PROXY: 'http://proxy:3128',
  https_proxy: 'http://proxy:3128',
  HTTP_PROXY: 'http://proxy:3128',
  http_proxy: 'http://proxy:3128',
  NO_PROXY: 'localhost',
  no_proxy: 'localhost',
  SSL_CERT_FILE: '/etc/ssl/ca.pem',
  SSL_CERT_DIR: '/etc/ssl/certs',
  AWS_CA_BUNDLE: '/etc/ssl/ca.pem',
  NODE_EXTRA_CA_CERTS: '/etc/ssl/ca.pem',
  TMPDIR: '/tmp',
  TMP: '/tmp',
  TEMP: '/tmp',
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  XDG_CONFIG_HOME: '/home/runner/.config',
  XDG_SESSION_TOKEN: 'not-for-helm',
  DOCKER_CONFIG: '/home/runner/.docker',
  SystemRoot: 'C:\\Windows',
  ComSpec: 'C:\\Windows\\system32\\cmd.exe',
  PATHEXT: '.COM;.EXE',
  USERPROFILE: 'C:\\Users\\runner',
  APPDATA: 'C:\\Users\\runner\\AppData\\Roaming',
  LOCALAPPDATA: 'C:\\Users\\runner\\AppData\\Local',
  ProgramData: 'C:\\ProgramData',
  windir: 'C:\\Windows',
  // Everything below must be dropped.
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_SESSION_TOKEN: 'session',
  AWS_REGION: 'eu-west-2',
  AWS_WEB_IDENTITY_TOKEN_FILE: '/tmp/token',
  GITHUB_TOKEN: 'ghs_x',
  GITHUB_WORKSPACE: '/home/runner/work/repo',
  ACTIONS_RUNTIME_TOKEN: 'rt',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token',
  ACTIONS_CACHE_URL: 'https://cache',
  INPUT_PASSWORD: 'hunter2',
  INPUT_REGISTRY: 'ghcr.io',
  NPM_TOKEN: 'npm',
  MY_SECRET: 's',
  DB_PASSWORD: 'p',
  RUNNER_TEMP: '/home/runner/work/_temp'
}

describe('childEnv', () => {
  it('keeps exactly the allow-listed variables', () => {
    const env = childEnv(RUNNER_ENV)
    expect(Object.keys(env).sort()).toEqual(
      [
        'PATH',
        'HOME',
        'HELM_CACHE_HOME',
        'HTTPS_PROXY',
        'https_proxy',
        'HTTP_PROXY',
        'http_proxy',
        'NO_PROXY',
        'no_proxy',
        'SSL_CERT_FILE',
        'SSL_CERT_DIR',
        'AWS_CA_BUNDLE',
        'NODE_EXTRA_CA_CERTS',
        'TMPDIR',
        'TMP',
        'TEMP',
        'LANG',
        'LC_ALL',
        'XDG_CONFIG_HOME',
        'DOCKER_CONFIG',
        'SystemRoot',
        'ComSpec',
        'PATHEXT',
        'USERPROFILE',
        'APPDATA',
        'LOCALAPPDATA',
        'ProgramData',
        'windir'
      ].sort()
    )
    expect(Object.values(env)).not.toContain('hunter2')
  })

  it('lays the extra variables over the kept ones', () => {
    const env = childEnv(RUNNER_ENV, {
      HELM_REGISTRY_CONFIG: '/tmp/private/config.json',
      DOCKER_CONFIG: '/tmp/private/docker'
    })
    expect(env.HELM_REGISTRY_CONFIG).toBe('/tmp/private/config.json')
    expect(env.DOCKER_CONFIG).toBe('/tmp/private/docker')
  })

  it('reads process.env by default', () => {
    expect(childEnv().PATH).toBe(process.env.PATH)
  })

  it.each([
    ['Path', true],
    ['helm_debug', true],
    ['HELM_KUBETOKEN', false],
    ['HELM_REPO_PASSWORD', false],
    ['XDG_SESSION_TOKEN', false],
    ['LC_SECRET', false],
    ['AWS_PROFILE', false],
    ['AWS_CONTAINER_CREDENTIALS_FULL_URI', false],
    ['ACTIONS_STEP_DEBUG', false],
    ['INPUT_USERNAME', false],
    ['GITHUB_OUTPUT', false],
    // Issue 21: secret-like suffixes and Helm's credential variables, under kept prefixes too.
    ['HELM_REPO_PASS', false],
    ['HELM_REPO_USERNAME', true],
    ['HELM_REPO_ACCESS_TOKEN', false],
    ['HELM_REPO_AUTH_HEADER', false],
    ['HELM_PLUGIN_PASSWORD', false],
    ['HELM_PLUGIN_PASS_CREDENTIALS_ALL', false],
    ['HELM_DRIVER_SQL_CONNECTION_STRING', false],
    ['HELM_KUBEASUSER', false],
    ['HELM_SIGNING_KEY', false],
    ['HELM_GPG_PASSPHRASE', false],
    ['helm_repo_pat', false],
    ['XDG_API_KEY', false],
    ['XDG_KEY_FILE', false],
    ['LC_AUTH', false],
    ['HELM_PRIVATE_KEY_PATH', false],
    // What Helm needs stays.
    ['HELM_REGISTRY_CONFIG', true],
    ['HELM_REPOSITORY_CONFIG', true],
    ['HELM_REPOSITORY_CACHE', true],
    ['HELM_CACHE_HOME', true],
    ['HELM_CONFIG_HOME', true],
    ['HELM_DATA_HOME', true],
    ['HELM_PLUGINS', true],
    ['HELM_CONTENT_CACHE', true],
    ['HELM_EXPERIMENTAL_OCI', true],
    ['https_proxy', true],
    ['NO_PROXY', true],
    ['SSL_CERT_FILE', true],
    ['SSL_CERT_DIR', true],
    ['NODE_EXTRA_CA_CERTS', true],
    ['AWS_CA_BUNDLE', true],
    ['DOCKER_CONFIG', true],
    ['LC_ALL', true],
    ['XDG_CONFIG_HOME', true]
  ])('%s kept: %s', (name, kept) => {
    expect(isChildVariable(name)).toBe(kept)
  })
})

describe('isToolVariable (git, tar.exe)', () => {
  it('keeps what Helm may keep, minus every HELM_ variable', () => {
    expect(isToolVariable('PATH')).toBe(true)
    expect(isToolVariable('https_proxy')).toBe(true)
    expect(isToolVariable('HELM_REGISTRY_CONFIG')).toBe(false)
    expect(isToolVariable('helm_cache_home')).toBe(false)
    expect(isToolVariable('GITHUB_TOKEN')).toBe(false)
    const env = childEnv(RUNNER_ENV, {}, isToolVariable)
    expect(Object.keys(env).filter(name => /^helm_/i.test(name))).toEqual([])
    expect(env.HOME).toBe('/home/runner')
  })
})
