import pLimit from 'p-limit'

/** How a chart's dependencies fared, and how long the chart waited for them. */
export interface Awaited<R> {
  results: R[]
  waitedMs: number
  /** The index of the dependency that finished last (the one waited for). */
  last?: number
}

/** What the scheduler gives each chart's work. */
export interface Step<R> {
  /** Settles once every dependency has its result (never rejects). */
  dependencies(): Promise<Awaited<R>>
  /** Runs `work` in one of the `maxParallel` slots. */
  slot<T>(work: () => Promise<T>): Promise<T>
}

/**
 * Runs `work` for every node of a dependency graph (`dependsOn` holds indexes): each node sees
 * its dependencies' results through `step.dependencies()`, and heavy work takes one of at most
 * `maxParallel` slots. Work must not reject (a failure is a result); results are in input order.
 * The graph has no cycles (plan.ts refuses them).
 */
export function scheduleByDependencies<R>(
  graph: { dependsOn: number[] }[],
  maxParallel: number,
  work: (index: number, step: Step<R>) => Promise<R>
): Promise<R[]> {
  const limit = pLimit(maxParallel)
  const finishedAt = new Map<number, number>()
  const started = new Map<number, Promise<R>>()
  const start = (i: number): Promise<R> => {
    let promise = started.get(i)
    if (!promise) {
      promise = work(i, {
        dependencies: async () => {
          const asked = Date.now()
          const results = await Promise.all(graph[i].dependsOn.map(start))
          const last = graph[i].dependsOn.reduce<number | undefined>(
            (a, j) =>
              a === undefined || (finishedAt.get(j) ?? 0) > (finishedAt.get(a) ?? 0) ? j : a,
            undefined
          )
          return { results, waitedMs: Date.now() - asked, last }
        },
        slot: task => limit(task)
      }).then(result => {
        finishedAt.set(i, Date.now())
        return result
      })
      started.set(i, promise)
    }
    return promise
  }
  return Promise.all(graph.map((_, i) => start(i)))
}
