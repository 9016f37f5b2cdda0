import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest'
import {
  discoverCharts,
  effectiveVersion,
  hasChartLock,
  isSemVer2,
  ociTag,
  parseChartYaml,
  readChartDir
} from '../../src/chart/chart.js'
import { UserError } from '../../src/errors.js'
import type { ChartMetadata } from '../../src/model.js'
import { rejection } from '../../__fixtures__/rejection.js'

let base: string
/** The workspace (realpath, as discoverCharts reports resolved paths). */
let ws: string
let outside: string

async function write(file: string, text = ''): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  await fs.writeFile(file, text)
}

async function chart(dir: string, name = path.basename(dir), version = '0.1.0') {
  await write(
    path.join(ws, dir, 'Chart.yaml'),
    `apiVersion: v2\nname: ${name}\nversion: ${version}\n`
  )
}

beforeAll(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'chart-test-')))
  ws = path.join(base, 'workspace')
  outside = path.join(base, 'outside')
  await chart('.', 'root-chart')
  await chart('charts/alpha')
  await chart('charts/beta')
  await chart('charts/nested/gamma')
  await write(path.join(ws, 'charts/README.md'), '# charts\n')
  await fs.mkdir(path.join(ws, 'bad/empty'), { recursive: true })
  await write(path.join(ws, 'dist/packaged-1.0.0.tgz'), 'not really gzip')
  await write(path.join(ws, 'docs/notes.txt'), 'hello')
  await write(path.join(ws, 'charts/alpha/node_modules/x/Chart.yaml'), 'name: x\nversion: 1.0.0\n')
  await write(path.join(outside, 'evil/Chart.yaml'), 'name: evil\nversion: 1.0.0\n')
  await fs.symlink(path.join(outside, 'evil'), path.join(ws, 'bad/link-out'))
  await fs.symlink(path.join(ws, 'charts/alpha'), path.join(ws, 'alpha-link'))
})

afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true })
})

describe('discoverCharts', () => {
  it('takes a chart directory, resolved to an absolute path', async () => {
    expect(await discoverCharts(['charts/alpha'], ws)).toEqual([
      { kind: 'dir', path: path.join(ws, 'charts/alpha'), display: 'charts/alpha' }
    ])
  })

  it('takes the workspace root', async () => {
    expect(await discoverCharts(['.'], ws)).toEqual([{ kind: 'dir', path: ws, display: '.' }])
  })

  it('takes a Chart.yaml path as its directory', async () => {
    expect(await discoverCharts(['charts/beta/Chart.yaml'], ws)).toEqual([
      { kind: 'dir', path: path.join(ws, 'charts/beta'), display: 'charts/beta' }
    ])
  })

  it('takes a packaged .tgz', async () => {
    expect(await discoverCharts(['dist/packaged-1.0.0.tgz'], ws)).toEqual([
      {
        kind: 'tgz',
        path: path.join(ws, 'dist/packaged-1.0.0.tgz'),
        display: 'dist/packaged-1.0.0.tgz'
      }
    ])
  })

  it('expands charts/* to chart directories, sorted, skipping files and folders that are not charts', async () => {
    // charts/README.md is a file and charts/nested a folder without Chart.yaml: both skipped.
    expect(await discoverCharts(['charts/*'], ws)).toEqual([
      { kind: 'dir', path: path.join(ws, 'charts/alpha'), display: 'charts/alpha' },
      { kind: 'dir', path: path.join(ws, 'charts/beta'), display: 'charts/beta' }
    ])
  })

  it('expands charts/**/Chart.yaml, ignoring node_modules', async () => {
    const found = await discoverCharts(['charts/**/Chart.yaml'], ws)
    expect(found).toEqual([
      { kind: 'dir', path: path.join(ws, 'charts/alpha'), display: 'charts/alpha' },
      { kind: 'dir', path: path.join(ws, 'charts/beta'), display: 'charts/beta' },
      { kind: 'dir', path: path.join(ws, 'charts/nested/gamma'), display: 'charts/nested/gamma' }
    ])
  })

  it('expands **/Chart.yaml from the root, the root chart shown as "."', async () => {
    const small = path.join(base, 'small')
    await write(path.join(small, 'Chart.yaml'), 'name: root\nversion: 1.0.0\n')
    await write(path.join(small, 'sub/x/Chart.yaml'), 'name: x\nversion: 1.0.0\n')
    await write(path.join(small, '.git/y/Chart.yaml'), 'name: y\nversion: 1.0.0\n')
    expect(await discoverCharts(['**/Chart.yaml'], small)).toEqual([
      { kind: 'dir', path: small, display: '.' },
      { kind: 'dir', path: path.join(small, 'sub/x'), display: 'sub/x' }
    ])
  })

  it('refuses a glob that climbs out of the workspace', async () => {
    const error = await rejection(discoverCharts(['../outside/*'], ws))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toMatch(
      /^Input "charts" (entry "\.\.\/outside\/evil" is outside the workspace|pattern "\.\.\/outside\/\*" matched no chart)/
    )
  })

  it('expands a .tgz glob', async () => {
    expect((await discoverCharts(['dist/*.tgz'], ws)).map(s => s.kind)).toEqual(['tgz'])
  })

  it('removes duplicates, keeping the first mention and input order', async () => {
    const found = await discoverCharts(
      [
        'charts/beta',
        'charts/alpha/Chart.yaml',
        'charts/alpha',
        './charts/beta/',
        'alpha-link',
        'charts/**/Chart.yaml'
      ],
      ws
    )
    expect(found.map(s => s.display)).toEqual([
      'charts/beta',
      'charts/alpha',
      'charts/nested/gamma'
    ])
  })

  it('rejects a glob that matches nothing', async () => {
    const error = await rejection(discoverCharts(['charts/*/nothing-*.tgz'], ws))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      'Input "charts" pattern "charts/*/nothing-*.tgz" matched no chart directory, Chart.yaml or .tgz: fix the pattern or remove it.'
    )
  })

  it('rejects a glob that matches only non-chart files', async () => {
    const error = await rejection(discoverCharts(['docs/*'], ws))
    expect(error.message).toBe(
      'Input "charts" pattern "docs/*" matched no chart directory, Chart.yaml or .tgz: fix the pattern or remove it.'
    )
  })

  it('rejects a directory without Chart.yaml', async () => {
    const error = await rejection(discoverCharts(['bad/empty'], ws))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      'Input "charts" entry "bad/empty" is a directory without Chart.yaml: point it at a chart directory.'
    )
  })

  it('rejects a file that is not a chart', async () => {
    const error = await rejection(discoverCharts(['docs/notes.txt'], ws))
    expect(error.message).toBe(
      'Input "charts" entry "docs/notes.txt" is neither a chart directory, a Chart.yaml nor a .tgz archive: point it at a chart.'
    )
  })

  it('rejects a path that does not exist', async () => {
    const error = await rejection(discoverCharts(['charts/missing'], ws))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      'Input "charts" entry "charts/missing" does not exist in the workspace: check the path (is the repository checked out?).'
    )
  })

  it('rejects a path outside the workspace', async () => {
    const error = await rejection(discoverCharts(['../outside/evil'], ws))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `Input "charts" entry "../outside/evil" is outside the workspace (${ws}): check out the chart into the workspace and use a relative path.`
    )
  })

  it('rejects an absolute path outside the workspace', async () => {
    const error = await rejection(discoverCharts([path.join(outside, 'evil/Chart.yaml')], ws))
    expect(error.message).toContain('is outside the workspace')
  })

  it('rejects a symlink that leads outside the workspace', async () => {
    const error = await rejection(discoverCharts(['bad/link-out'], ws))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `Input "charts" entry "bad/link-out" is outside the workspace (${ws}): check out the chart into the workspace and use a relative path.`
    )
  })

  it('follows a symlink that stays inside the workspace', async () => {
    expect(await discoverCharts(['alpha-link'], ws)).toEqual([
      { kind: 'dir', path: path.join(ws, 'charts/alpha'), display: 'alpha-link' }
    ])
  })

  it('works with a workspace path that is itself a symlink', async () => {
    const linked = path.join(base, 'ws-link')
    await fs.symlink(ws, linked)
    expect(await discoverCharts(['charts/alpha'], linked)).toEqual([
      { kind: 'dir', path: path.join(ws, 'charts/alpha'), display: 'charts/alpha' }
    ])
  })
})

describe('globs over a symlink leading outside the workspace', () => {
  it('bad/**/Chart.yaml refuses the link instead of skipping it', async () => {
    const error = await rejection(discoverCharts(['bad/**/Chart.yaml'], ws))
    expect(error).toBeInstanceOf(UserError)
    expect(error.message).toBe(
      `Input "charts" entry "bad/link-out/Chart.yaml" is outside the workspace (${ws}): check out the chart into the workspace and use a relative path.`
    )
  })

  it('bad/* does not match a symlinked directory at all (tinyglobby 0.2 with onlyFiles: false)', async () => {
    const error = await rejection(discoverCharts(['bad/*'], ws))
    expect(error.message).toBe(
      'Input "charts" pattern "bad/*" matched no chart directory, Chart.yaml or .tgz: fix the pattern or remove it.'
    )
  })
})

describe('parseChartYaml', () => {
  const where = 'charts/x/Chart.yaml'

  it('reads name, version, appVersion and dependencies', () => {
    const meta = parseChartYaml(
      [
        'apiVersion: v2',
        'name: my-app',
        'version: 1.2.3',
        'appVersion: "2.0"',
        'dependencies:',
        '  - name: common',
        '    version: 1.x.x',
        '    repository: file://../common',
        '  - name: redis',
        '    version: 18.0.0',
        '    repository: oci://registry-1.docker.io/bitnamicharts',
        '  - name: local',
        '  - "not a mapping"',
        '  - version: 1.0.0'
      ].join('\n'),
      where
    )
    expect(meta).toEqual({
      name: 'my-app',
      version: '1.2.3',
      appVersion: '2.0',
      dependencies: [
        { name: 'common', version: '1.x.x', repository: 'file://../common' },
        {
          name: 'redis',
          version: '18.0.0',
          repository: 'oci://registry-1.docker.io/bitnamicharts'
        },
        { name: 'local', version: undefined, repository: undefined }
      ]
    } satisfies ChartMetadata)
  })

  // YAML reads `version: 1.0` as the number 1, so messages show "1" where the file says 1.0
  // (Helm rejects a numeric version too; only the wording is off).
  it('stringifies numeric versions and appVersions', () => {
    expect(parseChartYaml('name: x\nversion: 1.0\nappVersion: 3\n', where)).toMatchObject({
      version: '1',
      appVersion: '3'
    })
  })

  it('has no dependencies when the key is absent or not a list', () => {
    expect(parseChartYaml('name: x\nversion: 1.0.0\n', where).dependencies).toEqual([])
    expect(
      parseChartYaml('name: x\nversion: 1.0.0\ndependencies: {}\n', where).dependencies
    ).toEqual([])
  })

  test.each([
    [
      'name: [unclosed\nversion: 1.0.0\n',
      /^charts\/x\/Chart\.yaml is not valid YAML \(.+\): fix the file\.$/
    ],
    [
      '- a\n- b\n',
      /^charts\/x\/Chart\.yaml is not a YAML mapping: it needs at least "name" and "version"\.$/
    ],
    ['just text', /^charts\/x\/Chart\.yaml is not a YAML mapping/],
    ['', /^charts\/x\/Chart\.yaml is not a YAML mapping/],
    ['version: 1.0.0\n', /^charts\/x\/Chart\.yaml has no "name": add the chart name\.$/],
    ['name: "  "\nversion: 1.0.0\n', /^charts\/x\/Chart\.yaml has no "name"/],
    ['name: 42\nversion: 1.0.0\n', /^charts\/x\/Chart\.yaml has no "name"/],
    [
      'name: x\n',
      /^charts\/x\/Chart\.yaml has no "version": add one, or set the "version" input\.$/
    ],
    ['name: x\nversion:\n', /^charts\/x\/Chart\.yaml has no "version"/],
    [
      'name: My_Chart\nversion: 1.0.0\n',
      /^charts\/x\/Chart\.yaml name "My_Chart" is not a valid repository name: use lowercase letters, digits and single "\.", "_" or "-" between them\.$/
    ],
    ['name: my--chart\nversion: 1.0.0\n', /name "my--chart" is not a valid repository name/],
    ['name: -chart\nversion: 1.0.0\n', /name "-chart" is not a valid repository name/],
    ['name: a/b\nversion: 1.0.0\n', /name "a\/b" is not a valid repository name/]
  ])('rejects %j', (text, message) => {
    let thrown: unknown
    try {
      parseChartYaml(text, where)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(UserError)
    expect((thrown as Error).message).toMatch(message)
    expect((thrown as Error).message).not.toContain('\n')
  })
})

describe('readChartDir and hasChartLock', () => {
  it('reads Chart.yaml and names it in messages', async () => {
    expect(await readChartDir(path.join(ws, 'charts/alpha'), 'charts/alpha', ws)).toMatchObject({
      name: 'alpha',
      version: '0.1.0'
    })
    await write(path.join(ws, 'broken/Chart.yaml'), 'version: 1.0.0\n')
    await expect(readChartDir(path.join(ws, 'broken'), 'broken', ws)).rejects.toThrow(
      'broken/Chart.yaml has no "name": add the chart name.'
    )
  })

  it('sees Chart.lock', async () => {
    expect(await hasChartLock(path.join(ws, 'charts/alpha'))).toBe(false)
    await write(path.join(ws, 'charts/beta/Chart.lock'), 'dependencies: []\n')
    expect(await hasChartLock(path.join(ws, 'charts/beta'))).toBe(true)
  })
})

describe('effectiveVersion', () => {
  const meta: ChartMetadata = { name: 'x', version: '1.0.0', dependencies: [] }
  const where = 'charts/x/Chart.yaml'

  it('uses Chart.yaml without an override', () => {
    expect(effectiveVersion(meta, undefined, where)).toBe('1.0.0')
  })

  it('lets the input override Chart.yaml, even a bad Chart.yaml version', () => {
    expect(effectiveVersion(meta, '2.0.0+sha.abc', where)).toBe('2.0.0+sha.abc')
    expect(effectiveVersion({ ...meta, version: 'latest' }, '2.0.0', where)).toBe('2.0.0')
  })

  test.each(['1.0', 'v1.0.0', 'latest', '1.0.0.0'])('rejects Chart.yaml version %j', version => {
    expect(() => effectiveVersion({ ...meta, version }, undefined, where)).toThrow(
      new UserError(
        `charts/x/Chart.yaml version "${version}" is not SemVer 2: fix Chart.yaml or set the "version" input.`
      )
    )
  })
})

describe('isSemVer2', () => {
  test.each([
    ['1.0.0', true],
    ['0.0.1', true],
    ['1.2.3-rc.1', true],
    ['1.2.3+build.5', true],
    ['1.2.3-alpha.1+build.5.sha-abc', true],
    ['1.0', false],
    ['1', false],
    ['v1.0.0', false],
    ['=1.0.0', false],
    [' 1.0.0', false],
    ['1.0.0 ', false],
    ['01.0.0', false],
    ['1.0.0-', false],
    ['1.0.0+', false],
    ['latest', false],
    ['', false]
  ])('%j -> %s', (version, ok) => {
    expect(isSemVer2(version)).toBe(ok)
  })
})

describe('ociTag', () => {
  test.each([
    ['1.2.3', '1.2.3'],
    ['1.2.3+build.5', '1.2.3_build.5'],
    ['1.2.3-rc.1+b.1', '1.2.3-rc.1_b.1'],
    ['0.1.0-alpha', '0.1.0-alpha']
  ])('%s -> %s', (version, tag) => {
    expect(ociTag(version)).toBe(tag)
  })
})
