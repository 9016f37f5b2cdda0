import type { Helm } from '../helm/helm.js'
import type { ChartJob, ChartResult } from '../model.js'
import type { RegistryLogin } from '../registry/ecr.js'
import { logIn } from '../registry/login.js'
import type { PrivateDir } from '../runtime/private-dir.js'
import { RegistryNotReady, type Destination } from './destination.js'
import { Once } from './once.js'
import { publishCharts, type PublishSettings, type RegistryAccess } from './pipeline.js'

export type { PublishSettings, RegistryAccess } from './pipeline.js'

/**
 * The registry login, run once. `eager` starts it at once, so that charts package while it is in
 * flight (a real run without skip-existing, where every chart is pushed); otherwise it starts when
 * a chart is going to be pushed, or when something waits for it (a pull to compare contents, an
 * OCI dependency), so a re-run that skips every chart never logs in. Without credentials there is
 * nothing to log in to.
 */
export function registryLogin(
  helm: Helm,
  login: RegistryLogin | undefined,
  dir: PrivateDir,
  eager: boolean
): Once<void> {
  const once = new Once(() => (login ? logIn(helm, login, dir) : Promise.resolve()))
  return eager ? once.start() : once
}

/** What charts wait on: the login, failing with RegistryNotReady (main reports the login once). */
export function whenLoggedIn(login: Once<void>): () => Promise<void> {
  return () =>
    login.get().catch(() => {
      throw new RegistryNotReady()
    })
}

/**
 * The publish step: every chart through the destination main chose, then the destination is
 * closed. A failed login is the step's one error, thrown after every chart has settled.
 */
export async function publish(
  helm: Helm,
  jobs: ChartJob[],
  destination: Destination,
  access: RegistryAccess,
  settings: PublishSettings
): Promise<ChartResult[]> {
  try {
    const results = await publishCharts(helm, jobs, destination, access, settings)
    await access.login.outcome()
    return results
  } finally {
    await destination.close()
  }
}
