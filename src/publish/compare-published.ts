import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { describeDifferences, diffArchives, type ArchiveDifference } from '../chart/compare.js'
import { UserError } from '../errors.js'
import type { Helm } from '../helm/helm.js'
import { ociRepository, type ChartJob, type Target } from '../model.js'
import {
  comparePublishedProvenance,
  hasProvenance,
  type PublishedProvenance
} from '../sign/provenance.js'

/** What a pull of the published version needs: Helm, the login once done, scratch space. */
export interface PullAccess {
  helm: Helm
  target: Target
  loggedIn: () => Promise<void>
  workDir: string
}

/**
 * Pulls the published version through the job's login and compares it with the new archive
 * (and, when this run signs, its provenance with the published one).
 */
export async function compareWithPublished(
  access: PullAccess,
  job: ChartJob,
  archive: string
): Promise<{ differences: ArchiveDifference[]; provenance?: PublishedProvenance }> {
  await access.loggedIn()
  const dir = await fs.mkdtemp(path.join(access.workDir, 'published-'))
  try {
    const signing = await hasProvenance(archive)
    const remote = ociRepository(access.target)
    const pulled = await access.helm.pull(remote, job.meta.name, job.version, dir, {
      provenance: signing
    })
    if (!pulled) return { differences: [] } // removed meanwhile: nothing to contradict
    return {
      differences: await diffArchives(
        await fs.readFile(pulled.archive),
        await fs.readFile(archive),
        job.meta.name
      ),
      provenance: signing ? await comparePublishedProvenance(archive, pulled.provenance) : undefined
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

/** The one-line failure for a version that exists with other content. */
export function differentContent(
  job: ChartJob,
  ref: string,
  differences: ArchiveDifference[]
): UserError {
  return new UserError(
    `Chart ${job.meta.name} version ${job.version} is already published (${ref}) with different content (${describeDifferences(differences)}): bump the chart version to publish this change.`
  )
}
