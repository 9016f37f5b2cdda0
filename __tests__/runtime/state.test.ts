import { beforeEach, describe, expect, it, vi } from 'vitest'
import * as core from '../../__fixtures__/core.js'

vi.mock('@actions/core', () => import('../../__fixtures__/core.js'))

const { readState, saveState } = await import('../../src/runtime/state.js')

beforeEach(() => core.resetCore())

describe('saveState / readState', () => {
  it('round-trips the job-private directory under its state key', () => {
    saveState({ privateDir: '/runner/_temp/helm-ecr-publish-abc' })
    expect(core.saveState).toHaveBeenCalledWith(
      'registryConfigDir',
      '/runner/_temp/helm-ecr-publish-abc'
    )
    expect(readState()).toEqual({ privateDir: '/runner/_temp/helm-ecr-publish-abc' })
  })

  it('reads no directory when main saved none', () => {
    expect(readState()).toEqual({ privateDir: undefined })
    saveState({})
    expect(core.saveState).not.toHaveBeenCalled()
  })
})
