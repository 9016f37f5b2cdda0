/**
 * The shell pipeline as a contender: scripts/bench/publish.sh, what users run today (aws ecr
 * get-login-password | helm registry login, helm package, helm push per chart), and the floor:
 * the same script already logged in, so only helm package and helm push.
 */
import { TEMP_ROOT } from '../lib/temp-root.js'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { REPO_ROOT } from '../../testbed/paths.js'
import type { BenchContext } from './context.js'
import { nextVersion, timeScript, type Contender } from './contender.js'
import { exec } from './util.js'

const PUBLISH_SH = path.join(REPO_ROOT, 'scripts', 'bench', 'publish.sh')

/** A fresh HOME, Helm dirs, registry config and DOCKER_CONFIG, plus what the script needs. */
async function shellEnv(
  ctx: BenchContext,
  helm: string,
  namespace: string
): Promise<Record<string, string>> {
  const home = await mkdtemp(path.join(TEMP_ROOT, 'home-'))
  await mkdir(path.join(home, 'docker'))
  return {
    PATH: `${path.dirname(helm)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    LANG: 'C.UTF-8',
    HELM_CONFIG_HOME: path.join(home, 'helm-config'),
    HELM_CACHE_HOME: path.join(home, 'helm-cache'),
    HELM_DATA_HOME: path.join(home, 'helm-data'),
    HELM_REGISTRY_CONFIG: path.join(home, 'registry', 'config.json'),
    DOCKER_CONFIG: path.join(home, 'docker'),
    // Helm talks TLS to the registry front; the aws CLI talks plain HTTP to the emulator's API.
    SSL_CERT_FILE: ctx.stack.certs.caFile,
    AWS_CA_BUNDLE: ctx.stack.certs.caFile,
    AWS_ACCESS_KEY_ID: ctx.stack.ecr.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ctx.stack.ecr.credentials.secretAccessKey,
    AWS_REGION: ctx.stack.ecr.region,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS: ctx.aws ?? '/usr/bin/aws',
    ECR_API: ctx.stack.ecr.apiUrl,
    REGISTRY: ctx.stack.ecr.registryHost,
    NAMESPACE: namespace
  }
}

/**
 * publish.sh over `chartDirs`: with `login`, a fresh Helm home and one login per chart every run
 * (the shell pipeline); without, logged in once before the first run (the floor).
 */
export function shellContender(
  ctx: BenchContext,
  key: string,
  label: string,
  o: { helm: string; namespace: string; chartDirs: string[]; login: boolean }
): Contender {
  let loggedIn: Record<string, string> | undefined
  return {
    key,
    label,
    run: async () => {
      let env = loggedIn
      if (!env) {
        env = await shellEnv(ctx, o.helm, o.namespace)
        if (!o.login) {
          const token = ctx.stack.ecr.issueToken()
          const login = await exec(
            o.helm,
            [
              'registry',
              'login',
              ctx.stack.ecr.registryHost,
              '--username',
              'AWS',
              '--password-stdin'
            ],
            { env, input: token.password }
          )
          if (login.code !== 0)
            throw new Error(`${key}: helm registry login failed: ${login.stderr}`)
          loggedIn = env
        }
      }
      const out = await mkdtemp(path.join(TEMP_ROOT, 'out-'))
      const ms = await timeScript(
        key,
        PUBLISH_SH,
        [out, nextVersion(o.namespace), ...o.chartDirs],
        { ...env, BENCH_LOGIN: o.login ? '1' : '0' },
        env.HOME
      )
      await rm(out, { recursive: true, force: true })
      if (o.login) await rm(env.HOME, { recursive: true, force: true })
      return { ms }
    }
  }
}
