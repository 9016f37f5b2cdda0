import { describe, expect, it } from 'vitest'
import { decide, looksUp, type ChartFacts, type Decision } from '../../src/publish/decide.js'

const A = `sha256:${'a'.repeat(64)}`
const B = `sha256:${'b'.repeat(64)}`

describe('decide', () => {
  // prettier-ignore
  it.each<[string, Partial<ChartFacts>, Decision]>([
    // hostile first: a chart's own problem wins over everything else
    ['own problem, even when published', { problem: 'x/Chart.yaml version "1.2" is not SemVer 2', published: A, own: A }, { do: 'fail', reason: 'x/Chart.yaml version "1.2" is not SemVer 2' }],
    ['failed dependency, not published', { failedDependency: 'base' }, { do: 'fail-dependency', dependency: 'base' }],
    ['failed dependency, published: skip unverified, never attested', { failedDependency: 'base', published: A }, { do: 'skip-unverified', dependency: 'base' }],
    ['failed dependency, published, without skip-existing', { failedDependency: 'base', published: A, skipExisting: false }, { do: 'fail-dependency', dependency: 'base' }],
    ['published with another digest: pull and compare, no attest', { published: A, own: B }, { do: 'compare-contents' }],
    ['published with this run\'s digest: skip, attested', { published: A, own: A }, { do: 'skip-same-digest', attest: true }],
    ['published, own digest not known yet', { published: A }, { do: 'digest' }],
    ['not published', {}, { do: 'push' }],
    ['not published, own digest known', { own: A }, { do: 'push' }],
    ['without skip-existing the registry is not asked: push', { skipExisting: false, published: A }, { do: 'push' }],
    ['dry run, not published: own digest first', { mode: 'dry-run' }, { do: 'digest' }],
    ['dry run, not published', { mode: 'dry-run', own: A }, { do: 'would-push' }],
    ['dry run, same digest: skip, nothing attested', { mode: 'dry-run', published: A, own: A }, { do: 'skip-same-digest', attest: false }],
    ['dry run, other digest', { mode: 'dry-run', published: A, own: B }, { do: 'compare-contents' }],
    ['dry run without skip-existing still compares', { mode: 'dry-run', skipExisting: false, published: A, own: B }, { do: 'compare-contents' }],
    ['dry run, failed dependency, published', { mode: 'dry-run', failedDependency: 'base', published: A }, { do: 'skip-unverified', dependency: 'base' }],
    // A real run without skip-existing fails such a chart (it never looks up): so does its dry run.
    ['dry run without skip-existing, failed dependency, published', { mode: 'dry-run', skipExisting: false, failedDependency: 'base', published: A }, { do: 'fail-dependency', dependency: 'base' }],
  ])('%s', (_name, facts, expected) => {
    expect(decide({ mode: 'publish', skipExisting: true, ...facts })).toEqual(expected)
  })
})

describe('looksUp', () => {
  // prettier-ignore
  it.each([
    ['publish', true, true, true],
    ['publish', false, true, false],
    ['publish', true, false, false],
    ['dry-run', false, true, true],
    ['dry-run', true, false, false]
  ] as const)('%s, skip-existing %s, registry checked %s -> %s', (mode, skip, checked, expected) => {
    expect(looksUp(mode, skip, checked)).toBe(expected)
  })
})
