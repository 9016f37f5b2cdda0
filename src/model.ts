import { createHash } from 'node:crypto'

/* The shared types every room uses: where a chart comes from and what it says, where charts go,
   one chart's job in a run, and one chart's result. Nothing here imports from the rooms above. */

/** Where a chart comes from: a directory with Chart.yaml, or an already packaged archive. */
export interface ChartSource {
  kind: 'dir' | 'tgz'
  /** Absolute, symlinks resolved. */
  path: string
  /** As the user wrote it (relative to the workspace), for messages. */
  display: string
}

export interface Dependency {
  name: string
  version?: string
  repository?: string
}

export interface ChartMetadata {
  name: string
  version: string
  appVersion?: string
  /** Chart.yaml description (ECR Public catalog data). */
  description?: string
  dependencies: Dependency[]
}

/** Where charts go: `oci://HOST/NAMESPACE`. */
export interface Target {
  host: string
  namespace: string
  /** For ECR Public the first namespace segment is the alias, not part of the repository name. */
  repositoryPrefix: string
}

export interface ChartJob {
  source: ChartSource
  meta: ChartMetadata
  /** Version to publish (input override or Chart.yaml). */
  version: string
  tag: string
  /** Repository name as the registry's API knows it, e.g. `charts/el-testo`. */
  repositoryName: string
  /** Indexes of the charts of this run that must be published first. */
  dependsOn: number[]
  /**
   * The chart's own problem (an invalid Chart.yaml): it fails in this one line, and its
   * dependants with it; the other charts publish. `meta` is then a placeholder.
   */
  problem?: string
}

export function makeTarget(host: string, namespace: string, repositoryPrefix: string): Target {
  return { host, namespace, repositoryPrefix }
}

/** `oci://HOST/NAMESPACE`: what `helm push` and Terraform's helm_release.repository take. */
export function ociRepository(target: Target): string {
  return `oci://${target.namespace ? `${target.host}/${target.namespace}` : target.host}`
}

export function ociReference(target: Target, chart: string, tag: string): string {
  return `${ociRepository(target)}/${chart}:${tag}`
}

export function repositoryName(target: Target, chart: string): string {
  return target.repositoryPrefix ? `${target.repositoryPrefix}/${chart}` : chart
}

export interface ChartResult {
  chart: string
  version: string
  ref: string
  digest: string
  repository: string
  registry: string
  pushed: boolean
  /** The chart carries a Helm provenance file (.prov): signed by "signing-key", or a packaged one's. */
  signed?: boolean
  /** The provenance attestation stored for this chart (attest). */
  attestation?: { digest: string; url?: string; verified?: true }
  /** Set when this chart failed; the step fails at the end. */
  error?: string
  /** Where the failure is, when it is in a file (relative to the workspace): its annotation. */
  file?: string
  line?: number
  /** Dry run only: what a real run would do with this chart. */
  outcome?: DryRunOutcome
}

export type DryRunOutcome = 'would push' | 'already published with the same content'

/** `sha256:<64 lower-case hex>`: the only digest form taken from a registry (registry text is data). */
export const DIGEST = /^sha256:[0-9a-f]{64}$/

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value)
}

/** The OCI digest of some bytes (a blob, a manifest): `sha256:<hex>`. */
export function digestOf(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}
