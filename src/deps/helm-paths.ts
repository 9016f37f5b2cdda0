import * as os from 'node:os'
import * as path from 'node:path'

/*
 * Where the runner user's own Helm and Docker settings are, as Helm finds them (helmpath and
 * pkg/cli/environment.go; oras' Docker fallback). Earlier steps of the job wrote their
 * `helm repo add` and `helm registry login` there; the action reads them and never writes.
 */

function helmConfigHome(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string {
  if (env.HELM_CONFIG_HOME) return env.HELM_CONFIG_HOME
  const home = env.HOME || os.homedir()
  if (platform === 'darwin') return path.join(home, 'Library', 'Preferences', 'helm')
  if (platform === 'win32') return path.join(env.APPDATA || home, 'helm')
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'helm')
}

/** The user's repositories.yaml (`helm repo add` writes it). */
export function userRepositoryConfig(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform
): string {
  return env.HELM_REPOSITORY_CONFIG || path.join(helmConfigHome(env, platform), 'repositories.yaml')
}

/**
 * The registry configs an earlier `helm registry login` may have written, most important first:
 * HELM_REGISTRY_CONFIG when set (unless it is `own`, this run's private file), then the default.
 */
export function userRegistryConfigs(
  own: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform
): string[] {
  const files = [path.join(helmConfigHome(env, platform), 'registry', 'config.json')]
  const set = env.HELM_REGISTRY_CONFIG
  if (set && path.resolve(set) !== path.resolve(own)) files.unshift(set)
  return [...new Set(files)]
}

/** Docker's config.json, where Helm also looks for registry logins. */
export function userDockerConfig(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker')
  return path.join(dir, 'config.json')
}
