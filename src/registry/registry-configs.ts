import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import { userDockerConfig, userRegistryConfigs } from '../deps/helm-paths.js'

/*
 * The job's existing registry logins, as Helm would find them without the action: Helm's registry
 * config (HELM_REGISTRY_CONFIG, else the default) first, then Docker's config.json. Read only.
 */

/** An `auths` entry of a Docker-format config (`auth` is base64 of user:password). */
type AuthEntry = Record<string, unknown>

export interface RegistryEntries {
  auths: Record<string, AuthEntry>
  /** Per-host credential helpers (docker-credential-NAME); a global credsStore is not copied. */
  credHelpers: Record<string, string>
}

/** The host of a config key (`https://index.docker.io/v1/` -> `index.docker.io`). */
export function configKeyHost(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]
    .toLowerCase()
}

async function readConfig(file: string): Promise<Partial<RegistryEntries>> {
  try {
    const doc = JSON.parse(await fs.readFile(file, 'utf8')) as unknown
    return doc && typeof doc === 'object' ? (doc as Partial<RegistryEntries>) : {}
  } catch {
    return {} // absent or unreadable: Helm would not find a login there either
  }
}

/** Masks every secret form of an entry before anything can print it. */
function maskEntry(entry: AuthEntry): void {
  for (const field of ['auth', 'password', 'identitytoken', 'registrytoken']) {
    const value = entry[field]
    if (typeof value !== 'string' || value === '') continue
    core.setSecret(value)
    if (field === 'auth') {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      const password = decoded.slice(decoded.indexOf(':') + 1)
      if (password) core.setSecret(password)
    }
  }
}

/**
 * The entries of the user's configs for every host but `exclude` (the target registry: the
 * action's own login replaces it). `own` is this run's private config, never read as the user's.
 */
export async function userRegistryEntries(
  own: string,
  exclude: string | undefined,
  env: NodeJS.ProcessEnv = process.env
): Promise<RegistryEntries> {
  const auths: Record<string, AuthEntry> = {}
  const credHelpers: Record<string, string> = {}
  const skip = exclude === undefined ? undefined : configKeyHost(exclude)
  // Most important first: an entry already taken is not replaced.
  for (const file of [...userRegistryConfigs(own, env), userDockerConfig(env)]) {
    const config = await readConfig(file)
    for (const [key, entry] of Object.entries(config.auths ?? {})) {
      if (configKeyHost(key) === skip || key in auths) continue
      if (!entry || typeof entry !== 'object' || Object.keys(entry).length === 0) continue
      maskEntry(entry)
      auths[key] = entry
    }
    for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
      if (configKeyHost(key) === skip || key in credHelpers || typeof helper !== 'string') continue
      credHelpers[key] = helper
    }
  }
  return { auths, credHelpers }
}
