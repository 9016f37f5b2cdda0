import { createHash } from 'node:crypto'
import { Document, parse, stringify, visit } from 'yaml'
import { readArchive } from '../chart/archive.js'

/*
 * The text Helm clear-signs into CHART-VERSION.tgz.prov (helm/helm pkg/provenance/sign.go,
 * messageBlock): the chart's metadata as Helm marshals it (sigs.k8s.io/yaml: known fields only,
 * empty ones left out, keys sorted), a line `...`, then `files:` with the archive's SHA-256.
 * Helm's verifier reads only the `files:` part; the metadata is for people reading the file.
 */

/** Helm's chart.Metadata fields (json tags, all omitempty), and how each is typed. */
const METADATA_FIELDS: Record<string, FieldType> = {
  name: 'string',
  home: 'string',
  sources: 'strings',
  version: 'string',
  description: 'string',
  keywords: 'strings',
  maintainers: 'maintainers',
  icon: 'string',
  apiVersion: 'string',
  condition: 'string',
  tags: 'string',
  appVersion: 'string',
  deprecated: 'boolean',
  annotations: 'stringMap',
  kubeVersion: 'string',
  dependencies: 'dependencies',
  type: 'string'
}

const MAINTAINER_FIELDS: Record<string, FieldType> = {
  name: 'string',
  email: 'string',
  url: 'string'
}

/** chart.Dependency: `name` and `repository` are written even when empty. */
const DEPENDENCY_FIELDS: Record<string, FieldType> = {
  name: 'string',
  version: 'string',
  repository: 'string',
  condition: 'string',
  tags: 'strings',
  enabled: 'boolean',
  'import-values': 'any',
  alias: 'string'
}
const DEPENDENCY_ALWAYS = new Set(['name', 'repository'])

type FieldType =
  'string' | 'strings' | 'boolean' | 'stringMap' | 'maintainers' | 'dependencies' | 'any'

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === false) return true
  if (Array.isArray(value)) return value.length === 0
  return typeof value === 'object' && Object.keys(value).length === 0
}

function text(value: unknown): string {
  return value === undefined || value === null ? '' : String(value)
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

function typed(value: unknown, type: FieldType): unknown {
  const list = Array.isArray(value) ? value : []
  switch (type) {
    case 'string':
      return text(value)
    case 'strings':
      return list.map(text)
    case 'boolean':
      return value === true
    case 'stringMap':
      return Object.fromEntries(Object.entries(record(value)).map(([k, v]) => [k, text(v)]))
    case 'maintainers':
      return list.map(m => pick(record(m), MAINTAINER_FIELDS))
    case 'dependencies':
      return list.map(d => pick(record(d), DEPENDENCY_FIELDS, DEPENDENCY_ALWAYS))
    case 'any':
      return value
  }
}

/** The known fields of `source`, typed, empty ones left out (unless always written), sorted. */
function pick(
  source: Record<string, unknown>,
  fields: Record<string, FieldType>,
  always: ReadonlySet<string> = new Set()
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(fields).sort()) {
    const value = typed(source[key], fields[key])
    if (always.has(key) || !isEmpty(value)) out[key] = value
  }
  return out
}

/** Whether YAML 1.1 (go-yaml v2, Helm's writer) reads this text, unquoted, as something else. */
function looksTyped(value: string): boolean {
  try {
    return typeof parse(value, { version: '1.1' }) !== 'string'
  } catch {
    return false
  }
}

/**
 * Chart.yaml text -> the metadata YAML Helm writes above `...`, in go-yaml v2's style: sorted keys,
 * unindented sequences, lines folded near 80 columns, double quotes for strings YAML 1.1 would
 * read as another type ("true", "2.0", "yes") and single quotes otherwise.
 */
export function metadataYaml(chartYaml: string): string {
  const doc = new Document(pick(record(parse(chartYaml)), METADATA_FIELDS), {
    sortMapEntries: true
  })
  visit(doc, {
    Scalar(key, node) {
      if (key !== 'key' && typeof node.value === 'string' && looksTyped(node.value)) {
        node.type = 'QUOTE_DOUBLE'
      }
    }
  })
  return doc.toString({ indentSeq: false, lineWidth: 80, minContentWidth: 0, singleQuote: true })
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * The message to clear-sign: metadata, `...`, `files:`. No final line break: in a clear-signed
 * message the line break before the signature is not signed (what Helm's signer produces too).
 */
export function provenanceMessage(chartYaml: string, fileName: string, archive: Buffer): string {
  const files = stringify({ files: { [fileName]: `sha256:${sha256Hex(archive)}` } })
  return `${metadataYaml(chartYaml)}\n...\n${files}`.replace(/\n$/, '')
}

/** The top chart's Chart.yaml inside a chart archive. */
export async function archiveChartYaml(archive: Buffer): Promise<string> {
  const entry = (await readArchive(archive)).find(
    e => e.type === 'file' && /^[^/]+\/Chart\.yaml$/.test(e.name)
  )
  if (!entry) throw new Error('the archive has no CHART/Chart.yaml')
  return entry.data.toString('utf8')
}
