/** Why the scheduler refused or dropped a request; the server maps `code` to a status (503 / 504). */
export type SchedulerErrorCode = 'overloaded' | 'deadline';

export abstract class SchedulerError extends Error {
  abstract readonly code: SchedulerErrorCode;
}

/**
 * The queue is full (or the scheduler is shutting down): shed now rather than queue work that
 * would miss its deadline anyway. `retryAfterMs` is a hint for a Retry-After header.
 */
export class OverloadError extends SchedulerError {
  override readonly name = 'OverloadError';
  readonly code = 'overloaded' as const;
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The request's deadline passed before it could be computed; it never reached the accelerator. */
export class DeadlineError extends SchedulerError {
  override readonly name = 'DeadlineError';
  readonly code = 'deadline' as const;
  readonly deadline: number;

  constructor(message: string, deadline: number) {
    super(message);
    this.deadline = deadline;
  }
}
