// Error codes of the public API and the HTTP status each one is sent with.

export const API_ERRORS = {
  bad_request: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  bad_gateway: 502,
  pool_unavailable: 503,
  deadline_exceeded: 504,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

/** An error the edge answers as `{error: {code, message, field?}}` with the code's status. */
export class ApiError extends Error {
  readonly status: (typeof API_ERRORS)[ApiErrorCode];
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
    /** Seconds, sent as Retry-After (429, 503). */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = API_ERRORS[code];
  }

  body(): { error: { code: ApiErrorCode; message: string; field?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.field !== undefined ? { field: this.field } : {}) } };
  }
}
