import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import { UserError, errorMessage } from '../errors.js'
import { type Helm } from '../helm/helm.js'
import { privateEcr } from '../registry/ecr.js'
import { ensureRegistryConfig, maskLogin } from '../registry/login.js'
import { configKeyHost } from '../registry/registry-configs.js'
import { parseRegistryHost, type EcrHost } from '../registry/registry-host.js'
import { HelmCommandError } from '../helm/helm-output.js'

/*
 * OCI dependencies in registries other than the target. The job-private registry config starts
 * with the job's own logins to other hosts (login.ts); a dependency in another Amazon ECR registry
 * (another account, or another region) that none of them covers is logged in with the job's AWS
 * credentials, a token from that registry's region, once per host and one login at a time (each
 * login rewrites the config file).
 */

let queue: Promise<unknown> = Promise.resolve()
const loggedIn = new Map<string, Promise<void>>()

/** Whether the private config already holds credentials for `host`. */
async function hasLogin(file: string, host: string): Promise<boolean> {
  try {
    const doc = JSON.parse(await fs.readFile(file, 'utf8')) as {
      auths?: Record<string, Record<string, unknown>>
      credHelpers?: Record<string, string>
    }
    const keys = [...Object.keys(doc.auths ?? {}), ...Object.keys(doc.credHelpers ?? {})]
    return keys.some(key => {
      if (configKeyHost(key) !== host.toLowerCase()) return false
      const entry = doc.auths?.[key]
      return doc.credHelpers?.[key] !== undefined || Object.keys(entry ?? {}).length > 0
    })
  } catch {
    return false
  }
}

/** An ECR registry's host, or undefined for any other registry. */
export function ecrHostOf(repository: string): EcrHost | undefined {
  const host = repository.replace(/^oci:\/\//, '').split('/')[0]
  try {
    // ECR hosts have no port; one that has (a test world's) is still that registry.
    const parsed = parseRegistryHost(host.replace(/:\d+$/, ''))
    return parsed.kind === 'ecr' ? { ...parsed, host } : undefined
  } catch {
    return undefined
  }
}

async function ecrLogin(helm: Helm, host: EcrHost): Promise<void> {
  let login
  try {
    login = await (await privateEcr(host.region, host)).login()
  } catch (error) {
    throw new UserError(
      `dependency registry ${host.host} could not be logged in to with the job's AWS credentials (${errorMessage(error)}): allow the job's role ecr:GetAuthorizationToken in ${host.region}, and pull (ecr:BatchGetImage, ecr:GetDownloadUrlForLayer) in that registry's repository policy; or log in to it in an earlier step.`
    )
  }
  maskLogin(login.username, login.password)
  try {
    await helm.registryLogin(host.host, login.username, login.password)
  } catch (error) {
    if (!(error instanceof HelmCommandError)) throw error
    throw new UserError(
      `dependency registry ${host.host} refused the login with the job's AWS token (${error.reason}): allow the job's account in that registry (ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer).`
    )
  }
  core.info(`Logged in to ${host.host} for dependencies`)
}

/**
 * Makes the OCI registries that `repositories` name ready for `helm dependency build`: the
 * private config exists (also in a dry run that logged in nowhere), and other ECR registries
 * are logged in with the job's AWS credentials unless a login for them exists.
 */
export async function prepareOciDependencies(
  helm: Helm,
  chart: string,
  repositories: string[]
): Promise<void> {
  const config = helm.envValue('HELM_REGISTRY_CONFIG')
  if (!config) return
  await ensureRegistryConfig(config)
  const hosts = new Map<string, EcrHost>()
  for (const repository of repositories) {
    if (!repository.startsWith('oci://')) continue
    const host = ecrHostOf(repository)
    if (host) hosts.set(host.host, host)
  }
  for (const host of hosts.values()) {
    let done = loggedIn.get(host.host)
    if (!done) {
      const work = queue.then(async () => {
        if (!(await hasLogin(config, host.host))) await ecrLogin(helm, host)
      })
      queue = work.catch(() => undefined)
      done = work
      loggedIn.set(host.host, done)
    }
    try {
      await done
    } catch (error) {
      throw error instanceof UserError ? new UserError(`Chart "${chart}" ${error.message}`) : error
    }
  }
}
