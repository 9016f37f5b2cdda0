import * as core from '@actions/core'
import { State } from '../constants.js'

/** What main hands to the post step: the job-private directory to delete. */
export interface PostState {
  privateDir?: string
}

export function saveState(state: PostState): void {
  if (state.privateDir) core.saveState(State.PrivateDir, state.privateDir)
}

export function readState(): PostState {
  return { privateDir: core.getState(State.PrivateDir) || undefined }
}
