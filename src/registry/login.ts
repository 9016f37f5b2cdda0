import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import type { PrivateDir } from '../runtime/private-dir.js'
import type { RegistryLogin } from './ecr.js'
import { UserError } from '../errors.js'
import { Helm } from '../helm/helm.js'
import { proxyFor, proxyRefusal } from '../runtime/proxy.js'
import { userRegistryEntries } from './registry-configs.js'
import { HelmCommandError, loginSecrets } from '../helm/helm-output.js'
import { RETRY, retrying } from '../runtime/retry.js'

/* The job-private registry login: a directory under RUNNER_TEMP that only this job reads, Helm's
   registry config inside it, and `helm registry login` into that config. Post deletes it. */

/**
 * Seeds the job-private registry config with an empty entry for the host, after the job's own
 * logins to other hosts (userRegistryEntries: earlier steps' `helm registry login`, Docker's
 * config), so dependencies in other registries still find them. A config with no auth entry
 * lets Helm (every version) hand the password to a docker-credential-* helper it finds on PATH,
 * i.e. into the runner user's keyring where it outlives the job; with an entry, Helm writes the
 * login into this file, which the post step deletes. Nothing is written back to the user's files.
 */
export async function seedRegistryConfig(
  file: string,
  host: string | undefined,
  flag: 'w' | 'wx' = 'w'
): Promise<void> {
  const { auths, credHelpers } = await userRegistryEntries(file, host)
  if (host !== undefined) auths[host] = {}
  const config = { auths, ...(Object.keys(credHelpers).length > 0 ? { credHelpers } : {}) }
  await fs.writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600, flag })
}

/** Seeds the config when no login did (a dry run without credentials); keeps one that exists. */
export async function ensureRegistryConfig(file: string): Promise<void> {
  try {
    await seedRegistryConfig(file, undefined, 'wx')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
}

/**
 * Masks every form of the login's secret before anything runs: the password as given and as Helm
 * keeps it, the base64 `auth` Helm writes, and each non-empty line of a multi-line password (the
 * runner masks line by line, so "p\n\n" would leave "p" readable).
 */
export function maskLogin(username: string, password: string): void {
  const masked = new Set<string>()
  for (const secret of loginSecrets(username, password)) {
    for (const form of [secret, ...secret.split('\n').map(line => line.replace(/\r$/, ''))]) {
      if (form.trim() !== '' && !masked.has(form)) {
        masked.add(form)
        core.setSecret(form)
      }
    }
  }
}

/** `helm registry login` into the private config, retried while the registry is unreachable. */
export async function logIn(helm: Helm, login: RegistryLogin, dir: PrivateDir): Promise<void> {
  await seedRegistryConfig(dir.registryConfig, login.host)
  maskLogin(login.username, login.password)
  const transient = (error: unknown) =>
    error instanceof HelmCommandError && error.kind === 'transient'
  try {
    await retrying(
      () => helm.registryLogin(login.host, login.username, login.password),
      RETRY.login,
      transient
    )
  } catch (error) {
    if (!(error instanceof HelmCommandError)) throw error
    if (error.kind === 'auth') {
      throw new UserError(
        `Registry ${login.host} rejected the login (${error.reason}): check the credentials ("username"/"password", or the AWS role's ecr:GetAuthorizationToken permission and the registry host).`
      )
    }
    const proxy = proxyFor(`https://${login.host}`)
    // Go reports a proxy it cannot reach as "proxyconnect …", a refused CONNECT by its status text.
    if (
      proxy &&
      /proxyconnect|: (Forbidden|Proxy Authentication Required|Bad Gateway)$/i.test(error.reason)
    ) {
      throw new UserError(proxyRefusal(proxy, login.host, error.reason))
    }
    if (/x509:|certificate signed by unknown authority|tls: failed to verify/i.test(error.reason)) {
      throw new UserError(
        `Registry ${login.host} presented a TLS certificate Helm does not trust (${error.reason}): behind a TLS-inspecting proxy, give Helm the proxy's CA with "ca-file" or SSL_CERT_FILE; for a private registry, its CA.`
      )
    }
    throw new UserError(
      `Could not log in to registry ${login.host} (${error.reason}): check "registry", the runner's network, and for private registries "plain-http", "ca-file" or "insecure-skip-tls-verify".`
    )
  }
  core.info(`Logged in to ${login.host}`)
}
