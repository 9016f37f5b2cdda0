/**
 * Vitest globalSetup of the e2e project: checks the tools and prepares the Helm binaries and
 * mirror archives once, so that test files do not race to build them.
 */
import { ALL_HELM_VERSIONS, prepareAllHelmBinaries } from './helm-binaries.js'
import { prepareHelmArchives } from './helm-mirror.js'
import { assertRegistryBinary } from './registry.js'

export default async function setup(): Promise<void> {
  await assertRegistryBinary()
  await prepareAllHelmBinaries()
  await prepareHelmArchives(ALL_HELM_VERSIONS)
}
