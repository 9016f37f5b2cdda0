import { digestOf } from '../model.js'
import * as fs from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'
import type { ArchiveEntry } from '../chart/archive.js'

/*
 * Whether a published manifest is exactly this run's package, without running Helm: the
 * manifest `helm push` would write for the archive is rebuilt in-process (Helm's config blob is
 * Chart.yaml as JSON, its one layer the archive) and its digest compared with the registry's.
 * Equal digests mean the registry holds a manifest naming this archive's sha256, so the answer
 * is sound whatever Helm version pushed it; a chart this rebuild does not cover (maintainers,
 * dependencies, annotations, non-string values) or another Helm layout just gets "unknown", and
 * the caller asks Helm (the in-process registry) as before. Recorded from Helm 3.9.4, 3.18.0 and
 * 4.1.4 (__tests__/publish/predict-manifest.test.ts).
 */

/** Chart.yaml fields in the order of Helm's chart.Metadata struct (Go marshals in that order). */
// prettier-ignore
const ORDER = ['name', 'home', 'sources', 'version', 'description', 'keywords', 'icon', 'apiVersion', 'condition', 'tags', 'appVersion', 'kubeVersion', 'type']
/** The fields that are lists of strings; every other field of ORDER is a string. */
const LIST_FIELDS: readonly string[] = ['sources', 'keywords']

/** JSON as Go's encoding/json writes it: <, > and & escaped. */
function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

/** Helm's config blob for a Chart.yaml, or undefined when it has fields this rebuild skips. */
export function helmConfig(chartYaml: string): Record<string, unknown> | undefined {
  let doc: unknown
  try {
    doc = parseYaml(chartYaml)
  } catch {
    return undefined
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return undefined
  const chart = doc as Record<string, unknown>
  const known = new Set<string>([...ORDER, 'dependencies'])
  if (Object.keys(chart).some(key => !known.has(key))) return undefined
  if (
    Array.isArray(chart.dependencies)
      ? chart.dependencies.length > 0
      : chart.dependencies !== undefined
  ) {
    return undefined
  }
  const config: Record<string, unknown> = {}
  for (const key of ORDER) {
    const value = chart[key]
    if (value === undefined || value === null || value === '') continue
    const list = LIST_FIELDS.includes(key)
    if (
      list
        ? !Array.isArray(value) || value.some(v => typeof v !== 'string')
        : typeof value !== 'string'
    ) {
      return undefined
    }
    if (list && (value as string[]).length === 0) continue
    config[key] = value
  }
  return config
}

/** The manifests `helm push` writes for the archive: without annotations (Helm < 3.15), and with. */
function manifests(config: Record<string, unknown>, archive: Buffer, mtime: Date): string[] {
  const configJson = goJson(config)
  const base = {
    schemaVersion: 2,
    config: {
      mediaType: 'application/vnd.cncf.helm.config.v1+json',
      digest: digestOf(configJson),
      size: Buffer.byteLength(configJson)
    },
    layers: [
      {
        mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
        digest: digestOf(archive),
        size: archive.length
      }
    ]
  }
  const annotations: Record<string, string> = {
    'org.opencontainers.image.created': mtime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'org.opencontainers.image.description': config.description as string,
    'org.opencontainers.image.source': (config.sources as string[] | undefined)?.[0] as string,
    'org.opencontainers.image.title': config.name as string,
    'org.opencontainers.image.url': config.home as string,
    'org.opencontainers.image.version': config.version as string
  }
  const set = Object.fromEntries(
    Object.entries(annotations)
      .filter(([, v]) => v)
      .sort()
  )
  return [goJson(base), goJson({ ...base, annotations: set })]
}

/**
 * True when `published` is the digest of the manifest Helm writes for this archive; false when
 * it cannot tell (then ask Helm). `entries` are the archive's, as read for the package line.
 */
export async function publishedIsThisArchive(
  archive: string,
  entries: ArchiveEntry[] | undefined,
  published: string
): Promise<boolean> {
  const chartYaml = entries?.find(e => e.type === 'file' && /^[^/]+\/Chart\.yaml$/.test(e.name))
  const config = chartYaml && helmConfig(chartYaml.data.toString('utf8'))
  if (!config) return false
  const [data, stat] = await Promise.all([fs.readFile(archive), fs.stat(archive)])
  return manifests(config, data, stat.mtime).some(m => digestOf(m) === published)
}
