import { describe, expect, it, test } from 'vitest'
import { UserError } from '../../src/errors.js'
import {
  ociReference,
  ociRepository,
  repositoryName,
  type ChartJob,
  type ChartMetadata,
  type ChartSource,
  type Dependency,
  type Target
} from '../../src/model.js'
import { findCycle, linkDependencies, makeJob } from '../../src/publish/plan.js'

const HOST = '123456789012.dkr.ecr.eu-west-2.amazonaws.com'
const plain: Target = { host: HOST, namespace: '', repositoryPrefix: '' }
const namespaced: Target = { host: HOST, namespace: 'team/charts', repositoryPrefix: 'team/charts' }
const publicAlias: Target = { host: 'public.ecr.aws', namespace: 'my-alias', repositoryPrefix: '' }
const publicNested: Target = {
  host: 'public.ecr.aws',
  namespace: 'my-alias/charts',
  repositoryPrefix: 'charts'
}

describe('ociRepository, ociReference, repositoryName', () => {
  test.each([
    [plain, `oci://${HOST}`, `oci://${HOST}/mychart:1.2.3_b.1`, 'mychart'],
    [
      namespaced,
      `oci://${HOST}/team/charts`,
      `oci://${HOST}/team/charts/mychart:1.2.3_b.1`,
      'team/charts/mychart'
    ],
    [
      publicAlias,
      'oci://public.ecr.aws/my-alias',
      'oci://public.ecr.aws/my-alias/mychart:1.2.3_b.1',
      'mychart'
    ],
    [
      publicNested,
      'oci://public.ecr.aws/my-alias/charts',
      'oci://public.ecr.aws/my-alias/charts/mychart:1.2.3_b.1',
      'charts/mychart'
    ],
    [
      { host: 'localhost:5000', namespace: 'ns', repositoryPrefix: 'ns' },
      'oci://localhost:5000/ns',
      'oci://localhost:5000/ns/mychart:1.2.3_b.1',
      'ns/mychart'
    ]
  ])('%j', (target, repository, reference, name) => {
    expect(ociRepository(target)).toBe(repository)
    expect(ociReference(target, 'mychart', '1.2.3_b.1')).toBe(reference)
    expect(repositoryName(target, 'mychart')).toBe(name)
  })
})

function source(dir: string, kind: ChartSource['kind'] = 'dir'): ChartSource {
  return { kind, path: `/ws/${dir}`, display: dir }
}

function meta(name: string, dependencies: Dependency[] = [], version = '1.0.0'): ChartMetadata {
  return { name, version, dependencies }
}

function job(
  dir: string,
  m: ChartMetadata,
  target = namespaced,
  kind: ChartSource['kind'] = 'dir'
) {
  return makeJob(source(dir, kind), m, m.version, target)
}

describe('makeJob', () => {
  it('derives the tag and repository name', () => {
    expect(makeJob(source('charts/a'), meta('a'), '2.0.0+build.7', namespaced)).toEqual({
      source: source('charts/a'),
      meta: meta('a'),
      version: '2.0.0+build.7',
      tag: '2.0.0_build.7',
      repositoryName: 'team/charts/a',
      dependsOn: []
    } satisfies ChartJob)
  })
})

describe('linkDependencies', () => {
  it('links file:// dependencies to the chart directory they point at', () => {
    const jobs = [
      job('charts/app', meta('app', [{ name: 'common', repository: 'file://../common' }])),
      job('charts/common', meta('common')),
      job('charts/other', meta('other', [{ name: 'lib', repository: 'file://./vendor/lib' }]))
    ]
    linkDependencies(jobs, namespaced)
    expect(jobs.map(j => j.dependsOn)).toEqual([[1], [], []])
  })

  it('links oci:// dependencies on the target repository by chart name (case and slash tolerant)', () => {
    const jobs = [
      job(
        'charts/app',
        meta('app', [
          { name: 'common', version: '1.x', repository: `oci://${HOST}/team/charts` },
          { name: 'lib', repository: `OCI://${HOST.toUpperCase()}/team/charts/` }
        ])
      ),
      job('charts/common', meta('common')),
      job('charts/lib', meta('lib'))
    ]
    linkDependencies(jobs, namespaced)
    expect(jobs[0].dependsOn).toEqual([1, 2])
  })

  it('ignores dependencies outside this run', () => {
    const jobs = [
      job(
        'charts/app',
        meta('app', [
          { name: 'redis', repository: 'oci://registry-1.docker.io/bitnamicharts' },
          { name: 'common', repository: 'https://charts.example.com' },
          // same name as a chart of this run, but another repository
          { name: 'lib', repository: `oci://${HOST}/other` },
          { name: 'lib', repository: `oci://${HOST}/team/charts/lib` },
          { name: 'nothing-here', repository: `oci://${HOST}/team/charts` },
          { name: 'missing', repository: 'file://../missing' },
          { name: 'lib' },
          { name: 'lib', repository: '@stable' }
        ])
      ),
      job('charts/lib', meta('lib'))
    ]
    linkDependencies(jobs, namespaced)
    expect(jobs[0].dependsOn).toEqual([])
  })

  it('ignores file:// in a packaged chart, self references and repeats', () => {
    const jobs = [
      job(
        'dist/app-1.0.0.tgz',
        meta('app', [{ name: 'lib', repository: 'file://../charts/lib' }]),
        namespaced,
        'tgz'
      ),
      job(
        'charts/lib',
        meta('lib', [
          { name: 'lib', repository: `oci://${HOST}/team/charts` },
          { name: 'x', repository: 'file://.' }
        ])
      ),
      job(
        'charts/app2',
        meta('app2', [
          { name: 'lib', repository: 'file://../lib' },
          { name: 'lib', repository: `oci://${HOST}/team/charts` }
        ])
      )
    ]
    linkDependencies(jobs, namespaced)
    expect(jobs.map(j => j.dependsOn)).toEqual([[], [], [1]])
  })

  it('uses the target without namespace', () => {
    const jobs = [
      job('a', meta('a', [{ name: 'b', repository: `oci://${HOST}` }]), plain),
      job('b', meta('b'), plain)
    ]
    linkDependencies(jobs, plain)
    expect(jobs[0].dependsOn).toEqual([1])
  })

  it('rejects a cycle, naming the charts in order', () => {
    const jobs = [
      job('charts/a', meta('a', [{ name: 'b', repository: 'file://../b' }])),
      job('charts/b', meta('b', [{ name: 'c', repository: `oci://${HOST}/team/charts` }])),
      job('charts/c', meta('c', [{ name: 'a', repository: 'file://../a' }]))
    ]
    let thrown: unknown
    try {
      linkDependencies(jobs, namespaced)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(UserError)
    expect((thrown as Error).message).toBe(
      'Charts depend on each other in a cycle (a -> b -> c -> a): remove one of these dependencies.'
    )
  })
})

describe('findCycle', () => {
  const graph = (...deps: number[][]) => deps.map(dependsOn => ({ dependsOn }))

  test.each<[string, number[][], number[] | undefined]>([
    ['no charts', [], undefined],
    ['no dependencies', [[], [], []], undefined],
    ['a chain', [[1], [2], []], undefined],
    ['a diamond', [[1, 2], [3], [3], []], undefined],
    ['a two-cycle', [[1], [0]], [0, 1, 0]],
    ['a self loop', [[0]], [0, 0]],
    ['a cycle behind a chain', [[1], [2], [3], [1]], [1, 2, 3, 1]],
    ['a cycle in a later component', [[], [2], [1]], [1, 2, 1]]
  ])('%s', (_case, deps, cycle) => {
    expect(findCycle(graph(...deps))).toEqual(cycle)
  })
})

describe("readCharts and planJobs: a chart's own problem fails that chart only", () => {
  const helm = { semver: '4.1.4' } as unknown as import('../../src/helm/helm.js').Helm

  async function workspace(charts: Record<string, string>): Promise<string> {
    const fs = await import('node:fs/promises')
    const os = await import('node:os')
    const path = await import('node:path')
    const ws = await fs.mkdtemp(path.join(os.tmpdir(), 'plan-test-'))
    for (const [dir, yaml] of Object.entries(charts)) {
      await fs.mkdir(path.join(ws, dir), { recursive: true })
      await fs.writeFile(path.join(ws, dir, 'Chart.yaml'), yaml)
    }
    return ws
  }

  it.each([
    [
      'version not SemVer 2',
      'apiVersion: v2\nname: bad\nversion: "1.2"\n',
      /bad\/Chart\.yaml version "1\.2" is not SemVer 2/
    ],
    [
      'bad name',
      'apiVersion: v2\nname: Bad_Name\nversion: 1.0.0\n',
      /bad\/Chart\.yaml name "Bad_Name" is not a valid repository name/
    ],
    ['not YAML', 'name: [\n', /bad\/Chart\.yaml is not valid YAML/]
  ])(
    '%s: one job carries the problem, its dependant and the others are planned',
    async (_what, yaml, problem) => {
      const ws = await workspace({
        bad: yaml,
        good: 'apiVersion: v2\nname: good\nversion: 1.0.0\n',
        top: 'apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n  - name: bad\n    repository: file://../bad\n'
      })
      const { readCharts, planJobs } = await import('../../src/publish/plan.js')
      const charts = await readCharts(['bad', 'good', 'top'], ws)
      const jobs = await planJobs(helm, charts, {}, plain)
      expect(jobs.map(j => [j.meta.name, j.version, j.problem ?? ''])).toEqual([
        ['bad', '', expect.stringMatching(problem)],
        ['good', '1.0.0', ''],
        ['top', '1.0.0', '']
      ])
      expect(jobs[2].dependsOn).toEqual([0])
    }
  )

  it('input problems still stop the step (two charts with one name)', async () => {
    const ws = await workspace({
      a: 'apiVersion: v2\nname: same\nversion: 1.0.0\n',
      b: 'apiVersion: v2\nname: same\nversion: 1.0.0\n'
    })
    const { readCharts, planJobs } = await import('../../src/publish/plan.js')
    await expect(planJobs(helm, await readCharts(['a', 'b'], ws), {}, plain)).rejects.toThrow(
      /has two charts named "same"/
    )
  })
})
