/**
 * Vitest globalSetup of the e2e project: checks the tools and prepares the Helm binaries and
 * mirror archives once, so that test files do not race to build them.
 */
import { rm } from 'node:fs/promises'
import { makeTestCerts } from './certs.js'
import { ALL_HELM_VERSIONS, prepareAllHelmBinaries } from './helm-binaries.js'
import { prepareHelmArchives } from './helm-mirror.js'
import { makeTempDir } from './paths.js'
import { assertRegistryBinary } from './registry.js'

export default async function setup(): Promise<void> {
  await assertRegistryBinary()
  // Fails early with a clear message when openssl is missing.
  const dir = await makeTempDir('certs-check')
  try {
    await makeTestCerts(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  await prepareAllHelmBinaries()
  await prepareHelmArchives(ALL_HELM_VERSIONS)
}
