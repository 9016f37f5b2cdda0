import pRetry from 'p-retry'

/** How often and how patiently one kind of call is tried again. */
export interface RetryPolicy {
  /** Tries after the first one. */
  retries: number
  /** The wait before the first retry; each later wait is `factor` times the one before. */
  minTimeoutMs: number
  factor: number
  /** A time limit per try, where the client takes one. */
  timeoutMs?: number
}

/**
 * Every retry of the action, in one table: the ones retrying() runs and the settings handed to
 * the clients that retry by themselves (the AWS SDK, @actions/http-client, Sigstore's registry
 * client). Only transient failures are retried.
 */
export const RETRY = {
  /** `helm registry login`: a registry that is briefly down. */
  login: { retries: 2, minTimeoutMs: 1000, factor: 2 },
  /** `helm push`: 5xx, resets and the ORAS v2 Tag-step flake. */
  push: { retries: 3, minTimeoutMs: 1000, factor: 2 },
  /** Helm's version and checksum files (archives are retried by @actions/tool-cache). */
  download: { retries: 2, minTimeoutMs: 500, factor: 2 },
  /**
   * @actions/http-client under those downloads: its own retries of 502, 503 and 504 (its backoff
   * is fixed; only the count is ours).
   */
  httpClient: { retries: 3, minTimeoutMs: 100, factor: 2 },
  /**
   * Every AWS SDK client (ECR, ECR Public, and STS through the credential chain): the SDK's
   * standard retry mode with 5 attempts in all (its backoff starts at 100 ms, doubling, jittered).
   */
  awsApi: { retries: 4, minTimeoutMs: 100, factor: 2 },
  /**
   * Attestation pushes and referrer lookups on the registry (Sigstore's OCI client), as
   * actions/attest sets them: 30 s per request, 3 retries.
   */
  attestRegistry: { retries: 3, minTimeoutMs: 1000, factor: 2, timeoutMs: 30_000 }
} as const satisfies Record<string, RetryPolicy>

/** The AWS SDK's maxAttempts for a policy: the first try and its retries. */
export function attempts(policy: RetryPolicy): number {
  return policy.retries + 1
}

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
