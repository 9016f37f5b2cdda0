import { beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../__fixtures__/core.js'

vi.mock('@actions/core', () => import('../__fixtures__/core.js'))

const { readState, saveState } = await import('../src/state.js')
const { State } = await import('../src/constants.js')

beforeEach(() => core.resetCore())

describe('saveState / readState', () => {
  it('round-trips everything post needs', () => {
    const state = {
      registryConfigDir: '/runner/_temp/helm-ecr-publish-abc',
      helmPath: '/opt/hostedtoolcache/helm/3.18.0/x64/helm',
      loggedInHosts: ['123456789012.dkr.ecr.eu-west-2.amazonaws.com', 'localhost:5000']
    }
    saveState(state)
    expect(readState()).toEqual(state)
  })

  it('stores under the State names', () => {
    saveState({ registryConfigDir: '/d', helmPath: '/h', loggedInHosts: ['h1'] })
    expect(Object.fromEntries(core.state)).toEqual({
      [State.RegistryConfigDir]: '/d',
      [State.HelmPath]: '/h',
      [State.LoggedInHosts]: '["h1"]'
    })
  })

  it('saves only what is known (main saves early, before Helm is installed)', () => {
    saveState({ registryConfigDir: '/d', loggedInHosts: [] })
    expect(core.saveState).toHaveBeenCalledTimes(2)
    expect(readState()).toEqual({ registryConfigDir: '/d', helmPath: undefined, loggedInHosts: [] })
  })

  it('a later save overwrites an earlier one', () => {
    saveState({ registryConfigDir: '/d', loggedInHosts: [] })
    saveState({ registryConfigDir: '/d', helmPath: '/h', loggedInHosts: ['h'] })
    expect(readState()).toEqual({ registryConfigDir: '/d', helmPath: '/h', loggedInHosts: ['h'] })
  })

  it('reads an empty state (main failed before saving anything)', () => {
    expect(readState()).toEqual({
      registryConfigDir: undefined,
      helmPath: undefined,
      loggedInHosts: []
    })
  })

  it.each([
    ['not JSON', '[broken'],
    ['not an array', '{"h":1}'],
    ['a string', '"h"']
  ])('ignores hosts that are %s', (_case, value) => {
    core.state.set(State.LoggedInHosts, value)
    expect(readState().loggedInHosts).toEqual([])
  })

  it('keeps only string hosts', () => {
    core.state.set(State.LoggedInHosts, '["a", 1, null, "b"]')
    expect(readState().loggedInHosts).toEqual(['a', 'b'])
  })
})
