/*
 * What to do with one chart, as a pure function of what is known about it. The real run and the
 * dry run both ask it; the pipeline (pipeline.ts) and the destinations only carry it out.
 */

/** A real run writes to the registry; a dry run writes nothing and reports what it would do. */
export type Mode = 'publish' | 'dry-run'

export interface ChartFacts {
  mode: Mode
  skipExisting: boolean
  /** Why the chart cannot be published at all (an invalid Chart.yaml): it fails as it is. */
  problem?: string
  /** The chart of this run it depends on that failed before reaching the registry. */
  failedDependency?: string
  /** The digest of this version in the registry; undefined when absent or not looked up. */
  published?: string
  /** The digest this run's package gets (pushed to the in-process registry), once known. */
  own?: string
}

export type Decision =
  /** The chart's own problem fails it. */
  | { do: 'fail'; reason: string }
  /** Not published, and a dependency failed: nothing to package it with. */
  | { do: 'fail-dependency'; dependency: string }
  /** Published, and a dependency failed: skipped unpackaged, unverified, not attested. */
  | { do: 'skip-unverified'; dependency: string }
  /** Package it and push it (retries and tag-conflict recovery are the registry's). */
  | { do: 'push' }
  /** Package it and push it to the in-process registry for its digest, then decide again. */
  | { do: 'digest' }
  /** Dry run: report the chart's own digest as what a real run would push. */
  | { do: 'would-push' }
  /** The registry holds exactly this run's package: skip, no pull. Attested in a real run. */
  | { do: 'skip-same-digest'; attest: boolean }
  /** Other digest: pull and compare contents (same content skips, unattested; else it fails). */
  | { do: 'compare-contents' }

/** Whether the chart's version is looked up in the registry before deciding. */
export function looksUp(mode: Mode, skipExisting: boolean, registryChecked: boolean): boolean {
  return mode === 'dry-run' ? registryChecked : skipExisting && registryChecked
}

export function decide(facts: ChartFacts): Decision {
  if (facts.problem) return { do: 'fail', reason: facts.problem }
  // A real run without skip-existing pushes whatever the registry holds (it was not asked).
  const published = facts.mode === 'publish' && !facts.skipExisting ? undefined : facts.published
  if (facts.failedDependency) {
    // Without skip-existing a real run never looks up, so the dry run fails it too.
    return published && facts.skipExisting
      ? { do: 'skip-unverified', dependency: facts.failedDependency }
      : { do: 'fail-dependency', dependency: facts.failedDependency }
  }
  if (!published && facts.mode === 'publish') return { do: 'push' }
  if (facts.own === undefined) return { do: 'digest' }
  if (!published) return { do: 'would-push' }
  if (facts.own === published) return { do: 'skip-same-digest', attest: facts.mode === 'publish' }
  return { do: 'compare-contents' }
}
