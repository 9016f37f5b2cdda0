/**
 * One in-flight (then cached) promise per key, so concurrent callers share one piece of work; a
 * failure is forgotten, so the next caller tries again.
 */
export function memoizeAsync<T>(work: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const cache = new Map<string, Promise<T>>()
  return key => {
    let pending = cache.get(key)
    if (!pending) {
      pending = work(key)
      cache.set(key, pending)
      pending.catch(() => cache.delete(key))
    }
    return pending
  }
}
