import * as fs from 'node:fs/promises'
import { isMap, isScalar, isSeq, parseDocument, visit, type Node } from 'yaml'
import { UserError } from '../errors.js'

/*
 * Chart metadata as Helm reads it, or refused. Helm (Go: sigs.k8s.io/yaml, then encoding/json)
 * and this action (the `yaml` library) must never see different dependencies in one file, so
 * every construct where two readers can differ is refused, not guessed: YAML tags (`!!binary`
 * decodes to other text), merge keys (`<<`), duplicate keys (which one wins?), keys that differ
 * only by case (Go matches `Repository:` to `repository`), several documents, complex keys.
 */

/** Chart.yaml, requirements.yaml and the lock files are small; a bigger one is not metadata. */
export const METADATA_MAX_BYTES = 1024 * 1024

/** Field names of Chart.yaml, requirements.yaml, Chart.lock and their dependency/maintainer entries. */
const HELM_FIELDS = [
  'apiVersion',
  'name',
  'home',
  'sources',
  'version',
  'description',
  'keywords',
  'maintainers',
  'icon',
  'appVersion',
  'deprecated',
  'annotations',
  'kubeVersion',
  'dependencies',
  'type',
  'repository',
  'condition',
  'tags',
  'enabled',
  'import-values',
  'alias',
  'email',
  'url',
  'generated',
  'digest'
]

/** Go's case folding for JSON field names: ASCII case, the long s (ſ) and the Kelvin sign (K). */
export function foldKey(key: string): string {
  return key.toLowerCase().toUpperCase().toLowerCase()
}

const FOLDED_FIELDS = new Map(HELM_FIELDS.map(f => [foldKey(f), f]))

function refuse(where: string, rule: string, line: number | undefined): never {
  const at = line ? ` (line ${line})` : ''
  throw new UserError(
    `${where} ${rule}${at}: Helm and this action could read it differently, so it is refused; write plain YAML (no tags, merge keys, duplicate or case-variant keys).`
  )
}

function lineOf(text: string, offset?: number): number | undefined {
  return offset === undefined ? undefined : text.slice(0, offset).split('\n').length
}

/**
 * Parses chart metadata strictly (see above). `where` names the file in messages. Returns the
 * plain data.
 */
export function parseStrictYaml(text: string, where: string): unknown {
  // Helm's YAML 1.1 reader ends a line (and a comment) at NEL, LS, PS and a lone CR, where this
  // reader reads on: "# x<LS>  - name: evil" hides a dependency from this action only. NUL and
  // U+FFFD are what UTF-16 (which Helm decodes) or bytes that are not UTF-8 look like here.
  const lone = /\r(?!\n)/.exec(text)
  if (lone) refuse(where, 'holds a carriage return that ends no line', lineOf(text, lone.index))
  const odd = /[\0\u0085\u2028\u2029\uFFFD]/.exec(text)
  if (odd) {
    const code = odd[0].codePointAt(0) as number
    const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
    const why =
      code === 0 || code === 0xfffd
        ? ': it is not UTF-8 text'
        : ', which Helm reads as a line break'
    refuse(where, `holds the character ${name}${why}`, lineOf(text, odd.index))
  }
  const doc = parseDocument(text, { uniqueKeys: true, merge: false, prettyErrors: false })
  for (const error of doc.errors) {
    if (error.code === 'DUPLICATE_KEY')
      refuse(where, 'has a duplicate key', lineOf(text, error.pos[0]))
    if (error.code === 'MULTIPLE_DOCS') refuse(where, 'holds several YAML documents', undefined)
    throw new UserError(
      `${where} is not valid YAML (${error.message.split('\n')[0]}): fix the file.`
    )
  }
  const at = (node: Node | null | undefined) => lineOf(text, node?.range?.[0])
  visit(doc, {
    Node(_key, node) {
      if (node.tag)
        refuse(
          where,
          `uses the YAML tag ${node.tag.replace(/^tag:yaml\.org,2002:/, '!!')}`,
          at(node)
        )
    },
    Map(_key, map) {
      const seen = new Map<string, string>()
      for (const pair of map.items) {
        const keyNode = pair.key as Node | null
        if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
          refuse(where, 'has a key that is not a plain string', at(keyNode))
        }
        const key = keyNode.value
        if (key === '<<') refuse(where, 'uses a YAML merge key (<<)', at(keyNode))
        const folded = foldKey(key)
        const other = seen.get(folded)
        if (other !== undefined) {
          refuse(where, `has keys that differ only by case ("${other}" and "${key}")`, at(keyNode))
        }
        seen.set(folded, key)
        const field = FOLDED_FIELDS.get(folded)
        if (field !== undefined && field !== key) {
          refuse(
            where,
            `spells the key "${field}" as "${key}" (Helm matches keys ignoring case)`,
            at(keyNode)
          )
        }
      }
    }
  })
  if (doc.contents && !isMap(doc.contents) && !isSeq(doc.contents) && !isScalar(doc.contents)) {
    refuse(where, 'is not a YAML mapping', undefined)
  }
  return doc.toJS({ maxAliasCount: 100 })
}

/**
 * Reads a metadata file that the caller has checked is a regular file inside the workspace,
 * refusing one bigger than METADATA_MAX_BYTES (checked on the open file, not on its name).
 */
export async function readMetadataFile(file: string, where: string): Promise<string> {
  const handle = await fs.open(file, 'r')
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) {
      throw new UserError(`${where} is not a regular file: make it a plain file in the chart.`)
    }
    if (stat.size > METADATA_MAX_BYTES) {
      throw new UserError(
        `${where} is ${stat.size} bytes, more than the ${METADATA_MAX_BYTES} a chart's metadata may have: shorten the file.`
      )
    }
    return await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
}
