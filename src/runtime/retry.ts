import pRetry from 'p-retry'

/** How often and how patiently one kind of call is tried again. */
export interface RetryPolicy {
  retries: number
  minTimeoutMs: number
  factor: number
}

/** Every retry of the action, in one table. Only transient failures are retried. */
export const RETRY = {
  /** `helm registry login`: a registry that is briefly down. */
  login: { retries: 2, minTimeoutMs: 1000, factor: 2 },
  /** `helm push`: 5xx, resets and the ORAS v2 Tag-step flake. */
  push: { retries: 3, minTimeoutMs: 1000, factor: 2 },
  /** Helm's version and checksum files (archives are retried by @actions/tool-cache). */
  download: { retries: 2, minTimeoutMs: 500, factor: 2 }
} as const satisfies Record<string, RetryPolicy>

/** Runs `fn`, trying again after failures that `isTransient` accepts, as `policy` says. */
export function retrying<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  isTransient: (error: unknown) => boolean,
  onRetry?: (error: unknown, attempt: number) => void
): Promise<T> {
  return pRetry(fn, {
    retries: policy.retries,
    minTimeout: policy.minTimeoutMs,
    factor: policy.factor,
    shouldRetry: ({ error }) => isTransient(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (onRetry && retriesLeft > 0 && isTransient(error)) onRetry(error, attemptNumber)
    }
  })
}
