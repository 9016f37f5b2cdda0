/**
 * Vitest globalSetup of the e2e project: builds the action from src/ (so an e2e run after a
 * change tests that change), checks the tools and prepares the Helm binaries and mirror
 * archives once, so that test files do not race to build them.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { buildBundles } from '../scripts/package.mjs'
import { makeTestCerts } from './certs.js'
import { ALL_HELM_VERSIONS, prepareAllHelmBinaries } from './helm-binaries.js'
import { prepareHelmArchives } from './helm-mirror.js'
import { E2E_DIST_ENV, E2E_TMP_ENV, makeTempDir } from './paths.js'
import { assertRegistryBinary } from './registry.js'

/** Checks the registry binary and openssl, then prepares every Helm binary and mirror archive. */
async function prepareTools(): Promise<void> {
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

export default async function setup(): Promise<() => Promise<void>> {
  // Every temp dir of this run (workers inherit the variable) lives under one root, removed at
  // teardown; KEEP_E2E_DIRS=1 keeps it for debugging.
  const root = await mkdtemp(path.join(tmpdir(), 'helm-ecr-e2e-'))
  process.env[E2E_TMP_ENV] = root
  try {
    // The bundle is built once per run (about 20 s) while the tools are prepared beside it;
    // HELM_ECR_E2E_DIST set by the caller (a directory with index.js and post/index.js) tests
    // that build instead.
    const [bundle] = await Promise.all([
      process.env[E2E_DIST_ENV] ? undefined : buildBundles(path.join(root, 'dist')),
      prepareTools()
    ])
    if (bundle) process.env[E2E_DIST_ENV] = bundle.dir
  } catch (error) {
    await rm(root, { recursive: true, force: true })
    throw error
  }
  return async () => {
    if (process.env.KEEP_E2E_DIRS === '1') {
      console.log(`KEEP_E2E_DIRS=1: e2e temp dirs kept in ${root}`)
      return
    }
    await rm(root, { recursive: true, force: true })
  }
}
