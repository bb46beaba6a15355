// Errors the client throws: the API's own (status, code, field, Retry-After, request id), and a
// request that never got an answer (network, timeout, abort).
import type { ErrorCode } from './types.js';
import { RETRYABLE_STATUSES, type OperationId } from './operations.js';

/** An error answer of the API: `{error: {code, message, field?}}` with its HTTP status. */
export class EdgeSearchError extends Error {
  override readonly name = 'EdgeSearchError';
  constructor(
    readonly operation: OperationId,
    readonly status: number,
    /** The API's code (`bad_request`, `rate_limited`, ...); `http_error` when the body was not the API's. */
    readonly code: ErrorCode | 'http_error',
    readonly detail: string,
    /** The request field at fault, as a dotted path (`k`, `params.weights`, `queries.3.query`). */
    readonly field?: string,
    /** Seconds the API asked to wait before retrying (429, 503). */
    readonly retryAfterS?: number,
    /** The edge's id for this request: its log has the detail of a 5xx under it. */
    readonly requestId?: string,
  ) {
    super(`${operation}: ${status} ${code}${field ? ` (${field})` : ''}: ${detail}`);
  }

  /** True when the API says the request may succeed later (429 and 503, sent with Retry-After). */
  get retryable(): boolean {
    return RETRYABLE_STATUSES.has(this.status);
  }
}

/** The request got no HTTP answer: the connection failed, the timeout passed, or the caller aborted. */
export class EdgeSearchConnectionError extends Error {
  override readonly name = 'EdgeSearchConnectionError';
  constructor(
    readonly operation: OperationId,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation}: ${message}`, options);
  }
}
