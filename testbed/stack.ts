/**
 * The whole test world in one call: certificates, a distribution registry, the ECR emulator in
 * front of it, and a Helm download mirror.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { defaultCertsDir, makeTestCerts, type TestCerts } from './certs.js'
import { startEcrEmulator, type EcrEmulator } from './ecr-emulator.js'
import { ALL_HELM_VERSIONS } from './helm-binaries.js'
import { startHelmMirror, type HelmMirror } from './helm-mirror.js'
import { startRegistry, type Registry } from './registry.js'

export interface StackOptions {
  accountId?: string
  region?: string
  /** Helm versions the mirror serves (default: all of HELM_VERSIONS). */
  helmVersions?: readonly string[]
  /** Also start a TLS distribution registry with htpasswd (for non-ECR registry tests). */
  tlsRegistry?: boolean
  /** Whether the ECR emulator serves the referrers API (default true, as ECR). */
  referrersApi?: boolean
  /** The host GetAuthorizationToken names in proxyEndpoint (default: the emulator's 127.0.0.1:port). */
  registryName?: string
}

export interface Stack {
  certs: TestCerts
  /** The plain-HTTP distribution registry behind the ECR emulator. */
  registry: Registry
  /** A separate TLS registry (htpasswd), when tlsRegistry was asked for. */
  tlsRegistry?: Registry
  ecr: EcrEmulator
  mirror: HelmMirror
  /** What the action needs to reach the emulator (ecr.env, nothing else). */
  actionEnv: Record<string, string>
  stop(): Promise<void>
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const stops: (() => Promise<void>)[] = []
  const stopAll = async (): Promise<void> => {
    const errors: unknown[] = []
    for (const stop of stops.reverse()) {
      try {
        await stop()
      } catch (error) {
        errors.push(error)
      }
    }
    stops.length = 0
    if (errors.length) throw errors[0]
  }
  try {
    const certs = await makeTestCerts(defaultCertsDir())
    const registry = await startRegistry()
    stops.push(() => registry.stop())
    let tlsRegistry: Registry | undefined
    if (opts.tlsRegistry) {
      tlsRegistry = await startRegistry({ tls: true, certs })
      stops.push(() => tlsRegistry!.stop())
    }
    const ecr = await startEcrEmulator({
      backend: registry,
      certs,
      accountId: opts.accountId,
      region: opts.region,
      referrersApi: opts.referrersApi,
      registryName: opts.registryName
    })
    stops.push(() => ecr.stop())
    const mirror = await startHelmMirror({
      versions: opts.helmVersions ?? ALL_HELM_VERSIONS,
      certs
    })
    stops.push(() => mirror.stop())
    return {
      certs,
      registry,
      tlsRegistry,
      ecr,
      mirror,
      actionEnv: { ...ecr.env },
      stop: stopAll
    }
  } catch (error) {
    await stopAll().catch(() => undefined)
    throw error
  }
}

export interface ChartSpec {
  name: string
  version: string
  appVersion?: string
  description?: string
  dependencies?: { name: string; version: string; repository?: string; condition?: string }[]
}

/** Writes a minimal valid Helm chart (apiVersion v2) into `dir`; returns `dir`. */
export async function makeChart(dir: string, spec: ChartSpec): Promise<string> {
  await mkdir(path.join(dir, 'templates'), { recursive: true })
  const lines = [
    'apiVersion: v2',
    `name: ${spec.name}`,
    `description: ${JSON.stringify(spec.description ?? `Test chart ${spec.name}`)}`,
    'type: application',
    `version: ${JSON.stringify(spec.version)}`
  ]
  if (spec.appVersion !== undefined) lines.push(`appVersion: ${JSON.stringify(spec.appVersion)}`)
  if (spec.dependencies?.length) {
    lines.push('dependencies:')
    for (const d of spec.dependencies) {
      lines.push(`  - name: ${d.name}`, `    version: ${JSON.stringify(d.version)}`)
      if (d.repository) lines.push(`    repository: ${JSON.stringify(d.repository)}`)
      if (d.condition) lines.push(`    condition: ${d.condition}`)
    }
  }
  await writeFile(path.join(dir, 'Chart.yaml'), lines.join('\n') + '\n')
  await writeFile(path.join(dir, 'values.yaml'), `greeting: hello from ${spec.name}\n`)
  await writeFile(
    path.join(dir, 'templates', 'configmap.yaml'),
    [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: {{ .Release.Name }}-{{ .Chart.Name }}',
      'data:',
      '  greeting: {{ .Values.greeting | quote }}',
      ''
    ].join('\n')
  )
  await writeFile(path.join(dir, '.helmignore'), '.git/\n*.tmp\n')
  return dir
}
