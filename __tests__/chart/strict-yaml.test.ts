import { describe, expect, it } from 'vitest'
import { foldKey, parseStrictYaml } from '../../src/chart/strict-yaml.js'
import { UserError } from '../../src/errors.js'

const refusal = (text: string): string => {
  try {
    parseStrictYaml(text, 'charts/app/Chart.yaml')
  } catch (error) {
    expect(error).toBeInstanceOf(UserError)
    expect((error as Error).message).not.toContain('\n')
    return (error as Error).message
  }
  throw new Error('not refused')
}

describe('parseStrictYaml: what Helm and this action could read apart is refused', () => {
  it.each([
    [
      'a tag',
      'dependencies:\n  - repository: !!binary ZmlsZTovLy4uL2V2aWw=\n',
      'uses the YAML tag !!binary (line 2)'
    ],
    ['a custom tag', 'name: !evil x\n', 'uses the YAML tag !evil'],
    [
      'a merge key',
      'dependencies:\n  - <<: {repository: "file://../evil"}\n    name: x\n',
      'uses a YAML merge key (<<)'
    ],
    [
      'a duplicate key',
      'dependencies:\n  - repository: a\n    repository: b\n',
      'has a duplicate key (line 3)'
    ],
    [
      'a case variant of a field',
      'dependencies:\n  - Repository: file://../evil\n',
      'spells the key "repository" as "Repository"'
    ],
    [
      'the long s (Go folds it to s)',
      'dependencies:\n  - repoſitory: file://../evil\n',
      'spells the key "repository" as "repoſitory"'
    ],
    [
      'keys differing by case',
      'annotations:\n  foo: a\n  Foo: b\n',
      'has keys that differ only by case ("foo" and "Foo")'
    ],
    [
      'a line separator (YAML 1.1 ends the comment there; Helm reads a hidden dependency)',
      'dependencies: []\n# note\u2028  - name: evil\u2028    repository: file:///evil\n',
      'holds the character U+2028, which Helm reads as a line break (line 2)'
    ],
    [
      'a lone carriage return (Helm ends the comment there, this reader does not)',
      'dependencies: []\n# note\r  - name: evil\r    repository: file:///evil\n',
      'holds a carriage return that ends no line (line 2)'
    ],
    ['a next-line character', 'name: a\u0085b\n', 'holds the character U+0085'],
    ['a paragraph separator', 'name: a\u2029b\n', 'holds the character U+2029'],
    [
      'UTF-16 (Helm decodes it; read as UTF-8 it is one string)',
      Buffer.concat([
        Buffer.from([0xff, 0xfe]),
        Buffer.from('dependencies: []\n', 'utf16le')
      ]).toString('utf8'),
      'holds the character U+FFFD'
    ],
    ['several documents', 'name: a\n---\nname: b\n', 'holds several YAML documents'],
    ['a complex key', '? [a]\n: b\n', 'has a key that is not a plain string']
  ])('%s', (_what, text, rule) => {
    const message = refusal(text)
    expect(message).toContain(`charts/app/Chart.yaml ${rule}`)
    expect(message).toMatch(
      /: Helm and this action could read it differently, so it is refused; write plain YAML/
    )
  })

  it('reads Windows line ends', () => {
    expect(parseStrictYaml('name: a\r\nversion: 1.0.0\r\n', 'Chart.yaml')).toEqual({
      name: 'a',
      version: '1.0.0'
    })
  })

  it('reads plain metadata, anchors and aliases included', () => {
    expect(
      parseStrictYaml(
        'name: app\nversion: 1.0.0\ndependencies:\n  - name: lib\n    repository: &r https://charts.example.com\n  - name: b\n    repository: *r\n',
        'Chart.yaml'
      )
    ).toEqual({
      name: 'app',
      version: '1.0.0',
      dependencies: [
        { name: 'lib', repository: 'https://charts.example.com' },
        { name: 'b', repository: 'https://charts.example.com' }
      ]
    })
  })

  it('folds keys as Go does', () => {
    expect(foldKey('REPOſITORY')).toBe('repository')
    expect(foldKey('\u212Aey')).toBe('key')
  })
})
