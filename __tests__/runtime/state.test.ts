import { describe, expect, it } from 'vitest'
import { State } from '../../src/constants.js'
import { readState, stateVariable } from '../../src/runtime/state.js'

describe('readState', () => {
  it('reads the job-private directory from the STATE_ variable the runner sets', () => {
    expect(stateVariable(State.PrivateDir)).toBe('STATE_registryConfigDir')
    expect(readState({ STATE_registryConfigDir: '/runner/_temp/helm-ecr-publish-abc' })).toEqual({
      privateDir: '/runner/_temp/helm-ecr-publish-abc'
    })
  })

  it('reads no directory when main saved none (or an empty one)', () => {
    expect(readState({})).toEqual({ privateDir: undefined })
    expect(readState({ STATE_registryConfigDir: '' })).toEqual({ privateDir: undefined })
  })
})
