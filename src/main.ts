import * as core from '@actions/core'
import * as path from 'node:path'
import { UserError, errorMessage } from './errors.js'
import { Helm } from './helm.js'
import { readInputs } from './inputs.js'
import { installHelm } from './installer.js'
import { buildJobs, readCharts } from './jobs.js'
import { makeTarget, type ChartJob } from './plan.js'
import { publishCharts, type ChartResult } from './publish.js'
import {
  authenticate,
  createRepositories,
  existingLookup,
  findExisting,
  loginWithRetry,
  missingRepositoryFix,
  privateDirectory,
  pushPermissionFix,
  seedRegistryConfig
} from './registry.js'
import { saveState } from './state.js'
import { setOutputs, writeSummary } from './summary.js'

function reportFailures(results: ChartResult[]): void {
  const failed = results.filter(r => r.error)
  if (failed.length === 0) return
  if (results.length === 1) {
    core.setFailed(failed[0].error as string)
    return
  }
  for (const r of failed) core.error(`Chart ${r.chart} ${r.version}: ${r.error}`)
  const pushed = results.filter(r => r.pushed).length
  core.setFailed(
    `${failed.length} of ${results.length} charts failed (${failed.map(r => r.chart).join(', ')}); ${pushed} pushed: see the errors above for each chart's reason.`
  )
}

export async function run(): Promise<void> {
  try {
    const inputs = readInputs()
    core.info(
      `Publishing ${inputs.charts.join(', ')} to ${inputs.registry ? `oci://${inputs.registry.host}` : 'the default Amazon ECR registry'}${inputs.namespace ? ` (namespace ${inputs.namespace})` : ''}`
    )
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd()
    const dirs = await privateDirectory()
    saveState({ registryConfigDir: dirs.root, loggedInHosts: [] })

    // Independent work overlaps: the Helm download, reading charts and fetching the ECR token.
    const [installed, charts, auth] = await Promise.all([
      installHelm(inputs.helmVersion, inputs.helmDownloadUrl),
      readCharts(inputs.charts, workspace),
      authenticate(inputs)
    ])
    core.info(
      `Helm ${installed.version} ${installed.fromCache ? 'from the tool cache' : 'installed'}; registry ${auth.login.host}; ${charts.length} chart(s)`
    )
    core.addPath(path.dirname(installed.path))
    core.exportVariable('HELM_REGISTRY_CONFIG', dirs.registryConfig)
    const helm = new Helm(
      installed.path,
      installed.version,
      {
        ...(process.env as Record<string, string>),
        HELM_REGISTRY_CONFIG: dirs.registryConfig,
        DOCKER_CONFIG: dirs.dockerConfig
      },
      inputs.tls,
      line => core.debug(line)
    )
    const unsupported = helm.unsupportedTlsInputs()
    if (unsupported.length > 0) {
      core.warning(
        `Helm ${installed.version} cannot apply ${unsupported.join(', ')}; set "helm-version" to a newer Helm.`
      )
    }

    const target = makeTarget(auth.login.host, inputs.namespace, auth.kind === 'ecr-public')

    const jobs = await buildJobs(helm, charts, inputs, target)

    // The login and the repository work (create, skip-existing lookups) run side by side.
    const loggedIn = (async () => {
      await seedRegistryConfig(dirs.registryConfig, auth.login.host)
      await loginWithRetry(helm, auth.login)
      saveState({
        registryConfigDir: dirs.root,
        helmPath: installed.path,
        loggedInHosts: [auth.login.host]
      })
      core.info(`Logged in to ${auth.login.host}`)
    })()
    loggedIn.catch(() => undefined) // awaited below; the failure is the step's one error
    const repositories =
      inputs.createRepository && auth.api
        ? createRepositories(auth.api, jobs, inputs.imageTagMutability)
        : new Map<string, Promise<void>>()
    const repositoryReady = (job: ChartJob) =>
      repositories.get(job.repositoryName) ?? Promise.resolve()
    const lookupTag = existingLookup(auth, helm, target, dirs.root)
    // skip-existing must know what exists before packaging; otherwise charts package meanwhile.
    let existing = new Map<number, string>()
    let preflightErrors = new Map<number, string>()
    if (inputs.skipExisting) {
      if (!auth.api) await loggedIn // helm pull needs the login
      ;({ existing, errors: preflightErrors } = await findExisting(jobs, async job => {
        await repositoryReady(job)
        return lookupTag(job)
      }))
    }
    const publishing = publishCharts(helm, jobs, {
      target,
      appVersion: inputs.appVersion,
      versionOverride: inputs.version !== undefined,
      existing,
      preflightErrors,
      skipExisting: inputs.skipExisting,
      lookupTag,
      maxParallel: inputs.maxParallel,
      workDir: dirs.root,
      missingRepositoryFix: missingRepositoryFix(auth, inputs),
      pushPermissionFix: pushPermissionFix(auth),
      retry: { retries: 3, minTimeoutMs: 1000 },
      loginReady: loggedIn,
      repositoryReady
    })
    await loggedIn
    const results = await publishing
    setOutputs(results, installed.version)
    await writeSummary(results, installed.version)
    reportFailures(results)
  } catch (error) {
    if (!(error instanceof UserError) && error instanceof Error && error.stack)
      core.debug(error.stack)
    core.setFailed(errorMessage(error))
  }
}
