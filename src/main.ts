import * as core from '@actions/core'
import * as path from 'node:path'
import { Attestor, attestResult } from './attest/attest.js'
import type { RegistryLogin } from './registry/ecr.js'
import { workspaceDir } from './runtime/paths.js'
import { MissingCredentialsError, UserError, errorMessage } from './errors.js'
import { Helm } from './helm/helm.js'
import { readConfig, type AttestConfig, type Config } from './config/config.js'
import { describeRegistry } from './config/registry-config.js'
import { installHelm } from './helm/installer.js'
import { registryKind } from './registry/factory.js'
import type { RegistryKind } from './registry/registry-kind.js'
import { makePrivateDir, type PrivateDir } from './runtime/private-dir.js'
import { planJobs, readCharts } from './publish/plan.js'
import { unifyProxyEnvironment } from './runtime/proxy.js'
import { publish } from './publish/publish.js'
import { sourceEpochResolver, type SourceEpoch } from './chart/reproducible.js'
import type { ChartResult } from './model.js'
import { setOutputs, writeSummary, type Signer } from './report/summary.js'
import { checkHelmCanCarryProvenance, startSigning } from './sign/signer.js'

/** The story of one invocation: inputs, install, authenticate, plan, publish, report. */
export async function run(): Promise<void> {
  try {
    unifyProxyEnvironment() // before anything connects or logs
    const config = readConfig() // every input rule, before any network call
    const sourceEpoch = loggedSourceEpoch() // an invalid SOURCE_DATE_EPOCH fails here
    const registry = registryKind(config.registry)
    const dryRun = config.mode === 'dry-run'
    // A signing key that cannot sign, or a Helm that cannot carry provenance: refused up front.
    if (config.signing && config.helm.version.kind === 'exact') {
      checkHelmCanCarryProvenance(config.helm.version.version)
    }
    const signing = await startSigning(config.signing)
    core.info(describeRun(config))
    const { helm, login, charts, dir } = await installAndAuthenticate(config, registry)
    if (signing) checkHelmCanCarryProvenance(helm.version)
    const knownHost = config.registry.host?.host
    if (!login) {
      core.notice(
        `Dry run without registry credentials: the charts were linted and packaged, but ${knownHost ?? 'the registry'} was not checked for existing versions (pull requests from forks get no secrets).`
      )
    }
    const target = registry.target(login?.host ?? knownHost ?? UNCHECKED_REGISTRY)
    const jobs = await planJobs(helm, charts, config, target)
    // Present only in publish mode (a dry run writes nothing, no attestation either).
    const attest = login && config.attest
    const provenance = attest ? provenanceStep(config, attest, registry, login) : undefined
    const results = await publish(helm, jobs, { kind: registry, login, target, dir }, config, {
      afterPublish: provenance,
      sourceEpoch,
      sign: signing?.sign
    })
    await report(results, helm.version, {
      signer: attest ? workflowRepository() : undefined,
      dryRun: dryRun ? { registryChecked: !!login } : undefined,
      signingKey: signing?.fingerprint
    })
  } catch (error) {
    if (!(error instanceof UserError) && error instanceof Error && error.stack) {
      core.debug(error.stack)
    }
    core.setFailed(errorMessage(error))
  }
}

/** Shown as the registry host when a dry run has no credentials and no "registry" input. */
const UNCHECKED_REGISTRY = 'registry-not-checked'

function describeRun(config: Config): string {
  const { namespace } = config.registry
  const where = describeRegistry(config.registry)
  const inNamespace = namespace ? ` (namespace ${namespace})` : ''
  const dryRun =
    config.mode === 'dry-run' ? ' (dry run: nothing is pushed and no repository is created)' : ''
  return `Publishing ${config.charts.join(', ')} to ${where}${inNamespace}${dryRun}`
}

/** The reproducible archives' timestamp (reproducible.ts), logged once per distinct value. */
function loggedSourceEpoch(): (dir: string) => Promise<SourceEpoch> {
  const resolve = sourceEpochResolver()
  const logged = new Set<string>()
  const origin = {
    git: 'commit time',
    fallback: 'no git checkout',
    SOURCE_DATE_EPOCH: 'SOURCE_DATE_EPOCH'
  }
  return async dir => {
    const epoch = await resolve(dir)
    const stamp = `${new Date(epoch.seconds * 1000).toISOString()} (${origin[epoch.from]})`
    if (!logged.has(stamp)) {
      logged.add(stamp)
      core.info(`Reproducible archives: entries stamped ${stamp}`)
    }
    return epoch
  }
}

/** A dry run goes on without credentials (pull requests from forks get no secrets). */
async function credentials(
  config: Config,
  registry: RegistryKind
): Promise<RegistryLogin | undefined> {
  try {
    return await registry.authenticate()
  } catch (error) {
    if (config.mode === 'dry-run' && error instanceof MissingCredentialsError) return undefined
    throw error
  }
}

/** The repository whose workflow runs (GITHUB_SERVER_URL, GITHUB_REPOSITORY). */
function workflowRepository(): Signer {
  return {
    serverUrl: process.env.GITHUB_SERVER_URL || 'https://github.com',
    repository: process.env.GITHUB_REPOSITORY ?? ''
  }
}

/** attest: each published chart's provenance, signed and stored next to it. */
function provenanceStep(
  config: Config,
  attest: AttestConfig,
  registry: RegistryKind,
  login: RegistryLogin
): (result: ChartResult, log: (line: string) => void) => Promise<ChartResult> {
  const attestor = new Attestor({
    ...workflowRepository(),
    apiUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
    credentials: { username: login.username, password: login.password },
    githubToken: attest.githubToken,
    pushPermissionFix: registry.pushPermissionFix
  })
  return (result, log) => attestResult(result, attestor, config.skipExisting, log)
}

/** Installs Helm, reads the charts and gets the registry credentials, all at once. */
async function installAndAuthenticate(
  config: Config,
  registry: RegistryKind
): Promise<{
  helm: Helm
  /** Undefined only in a dry run without credentials. */
  login: RegistryLogin | undefined
  charts: Awaited<ReturnType<typeof readCharts>>
  dir: PrivateDir
}> {
  const dir = await makePrivateDir()
  const [installed, charts, login] = await Promise.all([
    installHelm(config.helm.version, config.helm.downloadUrl, { sha256: config.helm.sha256 }),
    readCharts(config.charts, workspaceDir()),
    credentials(config, registry)
  ])
  core.info(
    `Helm ${installed.version} ${installed.fromCache ? 'from the tool cache' : 'installed'}; registry ${login?.host ?? 'not checked'}; ${charts.length} chart(s)`
  )
  core.addPath(path.dirname(installed.path))
  core.exportVariable('HELM_REGISTRY_CONFIG', dir.registryConfig)
  const helm = new Helm({
    path: installed.path,
    version: installed.version,
    env: {
      ...(process.env as Record<string, string>),
      HELM_REGISTRY_CONFIG: dir.registryConfig,
      DOCKER_CONFIG: dir.dockerConfig
    },
    tls: config.registry.tls,
    log: line => core.debug(line),
    warn: warning => core.warning(`Helm: ${warning}`)
  })
  const unsupported = helm.unsupportedTlsInputs()
  if (unsupported.length > 0) {
    core.warning(
      `Helm ${installed.version} cannot apply ${unsupported.join(', ')}; set "helm-version" to a newer Helm.`
    )
  }
  return { helm, login, charts, dir }
}

/** Outputs, the job summary, and the step's failure when any chart failed. */
async function report(
  results: ChartResult[],
  helmVersion: string,
  about: {
    signer?: Signer
    dryRun?: { registryChecked: boolean }
    /** The fingerprint of "signing-key". */
    signingKey?: string
  }
): Promise<void> {
  setOutputs(results, helmVersion, about.signingKey)
  await writeSummary(results, helmVersion, about.signer, about.dryRun, about.signingKey)
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
