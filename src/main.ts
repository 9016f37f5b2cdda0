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
import { publish, registryLogin, whenLoggedIn } from './publish/publish.js'
import { sourceEpochResolver, type SourceEpoch } from './chart/reproducible.js'
import type { SignRequest } from './chart/package.js'
import type { ChartJob, ChartResult, Target } from './model.js'
import { RegistryDestination } from './publish/registry-destination.js'
import { DryRunDestination } from './dry-run/dry-run-destination.js'
import { LocalDigests } from './publish/local-digest.js'
import { closingLine, failureLine, plural } from './publish/chart-log.js'
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
    const started = Date.now()
    const { helm, login, charts, dir } = await installAndAuthenticate(config, registry)
    if (signing) checkHelmCanCarryProvenance(helm.version)
    const knownHost = config.registry.host?.host
    const target = registry.target(login?.host ?? knownHost ?? UNCHECKED_REGISTRY)
    const jobs = await planJobs(helm, charts, config, target)
    // Present only in publish mode (a dry run writes nothing, no attestation either).
    const attest = login && config.attest
    const results = await publishJobs(
      helm,
      jobs,
      config,
      { registry, login, target, dir },
      {
        afterPublish: attest ? provenanceStep(config, attest, registry, login) : undefined,
        sourceEpoch,
        sign: signing?.sign
      }
    )
    if (!login) {
      core.notice(
        `Dry run without registry credentials: the charts were linted and packaged, but ${knownHost ?? 'the registry'} was not checked for existing versions (pull requests from forks get no secrets).`
      )
    }
    core.info(closingLine(results, Date.now() - started, dryRun))
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

/**
 * Chooses the destination (the registry, or a dry run's in-process one) and publishes every
 * chart. A real run logs in while charts package; with skip-existing, once a chart needs it.
 */
async function publishJobs(
  helm: Helm,
  jobs: ChartJob[],
  config: Config,
  where: {
    registry: RegistryKind
    login: RegistryLogin | undefined
    target: Target
    dir: PrivateDir
  },
  hooks: {
    afterPublish?: (result: ChartResult, log: (line: string) => void) => Promise<ChartResult>
    sourceEpoch: (dir: string) => Promise<SourceEpoch>
    sign?: (request: SignRequest) => Promise<string>
  }
): Promise<ChartResult[]> {
  const { registry, target } = where
  const dryRun = config.mode === 'dry-run'
  const login = registryLogin(helm, where.login, where.dir, !dryRun && !config.skipExisting)
  const loggedIn = whenLoggedIn(login)
  const local = new LocalDigests(helm, target.namespace)
  const workspace = workspaceDir()
  const destination = dryRun
    ? new DryRunDestination(helm, local, workspace)
    : new RegistryDestination({
        helm,
        kind: registry,
        target,
        loggedIn,
        skipExisting: config.skipExisting,
        local
      })
  const access = { helm, kind: registry, target, login, loggedIn, workDir: where.dir.root }
  return publish(
    helm,
    jobs,
    destination,
    { ...access, checked: where.login !== undefined },
    {
      packaging: {
        workspace,
        appVersion: config.appVersion,
        versionOverride: config.version !== undefined,
        sourceEpoch: hooks.sourceEpoch,
        sign: hooks.sign
      },
      skipExisting: config.skipExisting,
      maxParallel: config.maxParallel,
      afterPublish: hooks.afterPublish
    }
  )
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
  // The pipeline hands over only results whose digest is this run's own package.
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
    `Helm ${installed.version} ${installed.fromCache ? 'from the tool cache' : 'installed'}; registry ${login?.host ?? 'not checked'}; ${plural(charts.length, 'chart')}`
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

/** Where a chart's failure points (its file and line), for the annotation. */
function annotation(r: ChartResult): core.AnnotationProperties {
  return r.file ? { file: r.file, ...(r.line ? { startLine: r.line } : {}) } : {}
}

/** The step fails with one error line, annotated on the chart's file when the failure is in one. */
function failAt(message: string, r: ChartResult): void {
  if (!r.file) return core.setFailed(message)
  core.error(message, annotation(r))
  process.exitCode = 1 // what setFailed sets; it takes no file
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
    failAt(failed[0].error as string, failed[0])
    return
  }
  for (const r of failed) core.error(failureLine(r), annotation(r))
  const pushed = results.filter(r => r.pushed).length
  core.setFailed(
    `${failed.length} of ${plural(results.length, 'chart')} failed (${failed.map(r => r.chart).join(', ')}); ${pushed} pushed: see the errors above for each chart's reason.`
  )
}
