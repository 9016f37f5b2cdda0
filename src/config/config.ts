import { UserError } from '../errors.js'
import { readInputs, type HelmVersionSpec, type InputReader, type Inputs } from './inputs.js'
import { registryConfig, type RegistryConfig } from './registry-config.js'

/* The checked configuration: after the inputs are read (inputs.ts, each on its own), every rule
   between inputs is applied here, once, before any network call. What comes out is
   discriminated: the registry slice holds only what its kind needs, the run has one mode, and an
   optional feature is present only when it applies. */

export type {
  EcrTls,
  OciConfig,
  PrivateEcrConfig,
  PublicEcrConfig,
  RegistryConfig,
  UncheckedConfig
} from './registry-config.js'

/** "publish" pushes; "dry-run" lints, packages and reports digests, and writes nothing. */
export type Mode = 'publish' | 'dry-run'

/** Which Helm to install, and from where. */
export interface HelmSource {
  version: HelmVersionSpec
  downloadUrl: string
  /** Lower-case hex SHA-256 the archive must have (then the mirror's .sha256sum is not read). */
  sha256?: string
}

/** Signed SLSA provenance for each pushed chart (publish mode only). */
export interface AttestConfig {
  /** For GitHub's attestations API; without it, attestations go to the registry only. */
  githubToken?: string
}

/** OpenPGP provenance (.prov) for each chart: the secret key and its passphrase (both secrets). */
export interface SigningConfig {
  armoredKey: string
  passphrase?: string
}

export interface Config {
  mode: Mode
  /** Paths and globs relative to the workspace. */
  charts: string[]
  /** The "version" override (SemVer 2, without a leading "v"). */
  version?: string
  appVersion?: string
  helm: HelmSource
  skipExisting: boolean
  maxParallel: number
  /** Where charts go, and how Helm connects there ("tls"). */
  registry: RegistryConfig
  attest?: AttestConfig
  signing?: SigningConfig
}

function helmSource(inputs: Inputs): HelmSource {
  const { helmVersion: version, helmSha256: sha256, helmDownloadUrl: downloadUrl } = inputs
  if (sha256 && version.kind !== 'exact') {
    throw new UserError(
      `Input "helm-sha256" pins one archive, so "helm-version" must be an exact version such as "3.18.0" (got "${version.kind === 'latest' ? 'latest' : version.major}").`
    )
  }
  if (!sha256 && URL.parse(downloadUrl)?.protocol === 'http:') {
    throw new UserError(
      `Input "helm-download-url" must be an https:// URL (got "${downloadUrl}"): over plain HTTP anyone on the path can swap the archive and its checksum; use https://, or pin the archive with "helm-sha256".`
    )
  }
  return { version, downloadUrl, sha256 }
}

/**
 * The attestation referrer goes up through @sigstore/oci, which speaks HTTPS with Node's CAs
 * (plain HTTP only to localhost and 127.0.0.1) and has no setting for the TLS inputs Helm takes.
 */
function refuseAttestationTransport(registry: RegistryConfig, env: NodeJS.ProcessEnv): void {
  const host = registry.host?.host ?? 'the default ECR registry'
  const hostname = URL.parse(`http://${host}`)?.hostname
  const loopback = hostname === 'localhost' || hostname === '127.0.0.1'
  const { tls } = registry
  if (tls.plainHttp && !loopback) {
    throw new UserError(
      `Input "attest" stores attestations over HTTPS and cannot use "plain-http" for ${host}: serve the registry over HTTPS, or set "attest: false".`
    )
  }
  if (tls.insecureSkipTlsVerify) {
    throw new UserError(
      'Input "attest" stores attestations with TLS verification and cannot use "insecure-skip-tls-verify": give the registry\'s CA with "ca-file" (and NODE_EXTRA_CA_CERTS), or set "attest: false".'
    )
  }
  if (tls.caFile && !env.NODE_EXTRA_CA_CERTS) {
    throw new UserError(
      'Input "attest" stores attestations with its own OCI client, which does not read "ca-file": also set NODE_EXTRA_CA_CERTS to that file in the step\'s env, or set "attest: false".'
    )
  }
}

function attestConfig(
  inputs: Inputs,
  registry: RegistryConfig,
  env: NodeJS.ProcessEnv
): AttestConfig | undefined {
  // A dry run writes nothing, so it signs and stores no attestation.
  if (!inputs.attest || inputs.dryRun) return undefined
  refuseAttestationTransport(registry, env)
  // Keyless signing needs the job's OIDC token: refuse before anything is pushed.
  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL || !env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    throw new UserError(
      'Input "attest" is true but the job has no OIDC token to sign with: add "permissions: id-token: write" to the job (and "attestations: write" to also store attestations in GitHub), or set "attest: false".'
    )
  }
  return { githubToken: inputs.githubToken }
}

function signingConfig(inputs: Inputs): SigningConfig | undefined {
  const { signingKey: armoredKey, signingPassphrase: passphrase } = inputs
  if (passphrase && !armoredKey) {
    throw new UserError(
      'Input "signing-passphrase" is set but "signing-key" is empty: set "signing-key" to the ASCII-armored secret key (from a secret), or remove "signing-passphrase".'
    )
  }
  return armoredKey ? { armoredKey, passphrase } : undefined
}

/**
 * Applies every rule between inputs, before any network call. `env` gives the job's AWS region
 * (AWS_REGION, AWS_DEFAULT_REGION), NODE_EXTRA_CA_CERTS and the OIDC token variables.
 */
export function checkConfig(inputs: Inputs, env: NodeJS.ProcessEnv = process.env): Config {
  const helm = helmSource(inputs)
  const registry = registryConfig(inputs, env)
  return {
    mode: inputs.dryRun ? 'dry-run' : 'publish',
    charts: inputs.charts,
    version: inputs.version,
    appVersion: inputs.appVersion,
    helm,
    skipExisting: inputs.skipExisting,
    maxParallel: inputs.maxParallel,
    registry,
    attest: attestConfig(inputs, registry, env),
    signing: signingConfig(inputs)
  }
}

/** Reads the inputs (inputs.ts) and checks them together: the run's one configuration. */
export function readConfig(
  read?: InputReader,
  workspace?: string,
  env: NodeJS.ProcessEnv = process.env
): Config {
  return checkConfig(readInputs(read, workspace), env)
}

/**
 * The rules that need the installed Helm's version (`helmVersion`, e.g. "3.18.0") and the
 * versions this run publishes: applied once both are known, before any login or push.
 */
export function rejectKnownHelmBugs(helmVersion: string, versions: readonly string[]): void {
  // Helm 3.18.0 fails every push of a version with build metadata ("Error: not found", helm#30881).
  const withBuild = versions.find(version => version.includes('+'))
  if (helmVersion === '3.18.0' && withBuild) {
    throw new UserError(
      `Helm 3.18.0 cannot push version ${withBuild} (build metadata after "+", helm/helm#30881): set "helm-version" to another release, e.g. "3" or "4".`
    )
  }
}
