import { State } from '../constants.js'

/*
 * What main hands to the post step. Main saves it with core.saveState (see private-dir.ts); the
 * runner gives it back to the post step as STATE_<name> environment variables. Reading it needs
 * nothing but process.env, so the post bundle stays free of @actions/core.
 */

export interface PostState {
  /** The job-private directory to delete. */
  privateDir?: string
}

/** The environment variable the runner sets for a saved state key. */
export function stateVariable(key: State): string {
  return `STATE_${key}`
}

export function readState(env: NodeJS.ProcessEnv = process.env): PostState {
  return { privateDir: env[stateVariable(State.PrivateDir)] || undefined }
}
