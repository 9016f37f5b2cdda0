import * as core from '@actions/core'
import { State } from './constants.js'

/** What main hands to the post step. */
export interface PostState {
  registryConfigDir?: string
  helmPath?: string
  loggedInHosts: string[]
}

export function saveState(state: PostState): void {
  if (state.registryConfigDir) core.saveState(State.RegistryConfigDir, state.registryConfigDir)
  if (state.helmPath) core.saveState(State.HelmPath, state.helmPath)
  core.saveState(State.LoggedInHosts, JSON.stringify(state.loggedInHosts))
}

export function readState(): PostState {
  let hosts: string[] = []
  try {
    const parsed: unknown = JSON.parse(core.getState(State.LoggedInHosts) || '[]')
    if (Array.isArray(parsed)) hosts = parsed.filter((h): h is string => typeof h === 'string')
  } catch {
    hosts = []
  }
  return {
    registryConfigDir: core.getState(State.RegistryConfigDir) || undefined,
    helmPath: core.getState(State.HelmPath) || undefined,
    loggedInHosts: hosts
  }
}
