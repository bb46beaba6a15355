// When to try a request again: only after an answer the API says a retry can cure (429 and 503
// carry Retry-After), waiting at least what it asked, with exponential backoff and jitter.

export interface RetryOptions {
  /** Retries after the first attempt (default 2; 0 turns retrying off). */
  retries?: number;
  /** The first backoff (default 200 ms), doubled each retry; Retry-After wins when longer. */
  baseDelayMs?: number;
  /** The longest wait the client accepts (default 10 s): a Retry-After beyond it is thrown at once. */
  maxDelayMs?: number;
}

export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function retryPolicy(opts: RetryOptions | false | undefined): RetryPolicy {
  if (opts === false) return { retries: 0, baseDelayMs: 0, maxDelayMs: 0 };
  const policy = { retries: opts?.retries ?? 2, baseDelayMs: opts?.baseDelayMs ?? 200, maxDelayMs: opts?.maxDelayMs ?? 10_000 };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`retry.${name} must be a finite number ≥ 0, not ${value}`);
  }
  return policy;
}

/**
 * The wait before retry number `attempt` (1 for the first), or undefined when no retry is due:
 * the retries are spent, or the API asked for a longer wait than the policy accepts.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterS: number, random: () => number = Math.random): number | undefined {
  if (attempt > policy.retries) return undefined;
  const asked = retryAfterS * 1000;
  if (asked > policy.maxDelayMs) return undefined;
  // Full jitter above the asked wait: clients told the same Retry-After do not return together.
  const backoff = policy.baseDelayMs * 2 ** (attempt - 1);
  return Math.min(policy.maxDelayMs, asked + backoff * random());
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
