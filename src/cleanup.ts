import * as core from '@actions/core'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { errorMessage } from './errors.js'
import { Helm } from './helm.js'
import { readState } from './state.js'

/**
 * The post step: log out and delete the job-private registry login. It only warns, so a
 * cleanup problem never fails a green job.
 */
export async function cleanup(): Promise<void> {
  const state = readState()
  if (!state.registryConfigDir) return
  const registryConfig = path.join(state.registryConfigDir, 'registry', 'config.json')
  if (state.helmPath) {
    // Logout takes no version-dependent flags, so the version does not matter here.
    const helm = new Helm(state.helmPath, 'v0.0.0', {
      ...(process.env as Record<string, string>),
      HELM_REGISTRY_CONFIG: registryConfig,
      DOCKER_CONFIG: path.join(state.registryConfigDir, 'docker')
    })
    for (const host of state.loggedInHosts) {
      try {
        const result = await helm.registryLogout(host)
        if (result.exitCode !== 0)
          core.warning(`helm registry logout ${host} failed; the login file is deleted anyway.`)
        else core.info(`Logged out of ${host}`)
      } catch (error) {
        core.warning(
          `helm registry logout ${host} failed (${errorMessage(error)}); the login file is deleted anyway.`
        )
      }
    }
  }
  try {
    await fs.rm(state.registryConfigDir, { recursive: true, force: true })
    core.info(`Removed the job's registry login (${state.registryConfigDir})`)
  } catch (error) {
    core.warning(`Could not remove ${state.registryConfigDir}: ${errorMessage(error)}`)
  }
}
