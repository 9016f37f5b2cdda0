import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseLintOutput, splitLintOutput } from '../../src/helm/lint-output.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const recorded = (name: string) =>
  readFileSync(path.join(here, '..', 'fixtures', 'helm-lint', name), 'utf8')

describe('parseLintOutput', () => {
  it.each(['3.9.4', '4.1.4'])('Helm %s: a template error names the template and its line', v => {
    const findings = parseLintOutput(recorded(`${v}-template-error.txt`))
    const errors = findings.filter(f => f.severity === 'error')
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ file: 'templates/bad.yaml', line: 4, column: 18 })
    expect(errors[0].message).toContain('nil pointer evaluating interface {}.field')
    expect(errors[0].message).not.toContain('\n')
  })

  it.each(['3.9.4', '4.1.4'])('Helm %s: warnings keep their file; infos are kept apart', v => {
    const findings = parseLintOutput(recorded(`${v}-warnings.txt`))
    expect(findings.filter(f => f.severity === 'warning')).toEqual([
      expect.objectContaining({
        file: 'templates/ing.yaml',
        message: expect.stringMatching(/^object name does not conform/)
      }),
      expect.objectContaining({
        file: 'templates/ing.yaml',
        message: expect.stringMatching(/^extensions\/v1beta1 Ingress is deprecated/)
      })
    ])
    expect(findings.filter(f => f.severity === 'info').map(f => f.file)).toEqual([
      'Chart.yaml',
      'values.yaml'
    ])
  })

  it('a subchart template keeps its path inside the chart; a bare message has no file', () => {
    const findings = parseLintOutput(
      [
        '[ERROR] templates/: template: app/charts/db/templates/svc.yaml:7:3: executing it failed',
        '[ERROR] chart metadata is missing these dependencies: db',
        'Error: 1 chart(s) linted, 1 chart(s) failed'
      ].join('\n')
    )
    expect(findings).toEqual([
      expect.objectContaining({ file: 'charts/db/templates/svc.yaml', line: 7, column: 3 }),
      {
        severity: 'error',
        file: undefined,
        line: undefined,
        column: undefined,
        message: 'chart metadata is missing these dependencies: db'
      }
    ])
  })
})

describe('splitLintOutput', () => {
  it('gives each chart of one helm lint run its own part', () => {
    const sections = splitLintOutput(
      [
        '==> Linting /w/a-1.0.0.tgz',
        '[INFO] Chart.yaml: icon is recommended',
        '',
        '==> Linting /w/b-1.0.0.tgz',
        '[ERROR] templates/: b/templates/x.yaml:1:2',
        '  executing it failed',
        '',
        'Error: 2 chart(s) linted, 1 chart(s) failed'
      ].join('\n')
    )
    expect([...sections.keys()]).toEqual(['/w/a-1.0.0.tgz', '/w/b-1.0.0.tgz'])
    expect(parseLintOutput(sections.get('/w/b-1.0.0.tgz') as string)).toEqual([
      {
        severity: 'error',
        file: 'templates/x.yaml',
        line: 1,
        column: 2,
        message: 'executing it failed'
      }
    ])
  })
})
