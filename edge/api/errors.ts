// Turns every failure into the API's error shape `{error: {code, message, field?}}`.
//
// 4xx messages are precise: they are about the caller's own request. 5xx messages are
// generic and carry the request id: their detail (pool endpoint URLs, the pool's own error
// text with file paths, a configuration error) is for operators, so it goes to the log under
// that id and never to the caller.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, type ApiErrorCode, type ErrorBody } from '../../shared/api/index.ts';
import { ConfigError } from '../config/index.ts';
import { edgeLog } from '../log/index.ts';

/** What a caller is told for each server-side failure. */
const PUBLIC_MESSAGES: Partial<Record<ApiErrorCode, string>> = {
  internal: 'the edge could not handle this request',
  bad_gateway: 'the search pool gave an answer the edge could not use; retry later',
  pool_unavailable: 'the search pool is unavailable; retry later',
  deadline_exceeded: 'the search pool did not answer in time; retry later',
};

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    // Hono's validator throws this for a body that is not JSON.
    if (err.status === 400) return new ApiError('invalid_json', `the request body is not valid JSON`);
    if (err.status === 413) return new ApiError('payload_too_large', err.message);
    return new ApiError(err.status >= 500 ? 'internal' : 'bad_request', err.message);
  }
  if (err instanceof ConfigError) return new ApiError('internal', `the edge is misconfigured: ${err.message}`);
  return new ApiError('internal', 'internal error');
}

/**
 * The error as the caller may see it: a 4xx as it is; a 5xx with a generic message naming
 * `requestId`, logged under that id (the same detail in full at most once per 10 s; repeats
 * name the request whose line has it).
 */
export function publicError(err: unknown, requestId: string): ApiError {
  const e = toApiError(err);
  if (e.status < 500) return e;
  const known = err instanceof ApiError || err instanceof ConfigError;
  const detail = known ? e.message : err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  const level = e.code === 'pool_unavailable' || e.code === 'deadline_exceeded' ? 'warn' : 'error';
  const head = `[request ${requestId}] ${e.status} ${e.code}`;
  // Every failed request gets a line with its id; the detail is written once per window.
  edgeLog.write(level, `${e.code} ${sameFailure(known ? e.message : detail.split('\n')[0])}`, `${head}: ${detail}`, {
    ref: requestId,
    line: (first) => `${head}: the same failure as request ${first} (its detail is logged once per 10 s)`,
  });
  return new ApiError(e.code, `${PUBLIC_MESSAGES[e.code] ?? 'the edge could not handle this request'} (request id ${requestId})`, undefined, e.retryAfterS);
}

/** A message with its per-request part (batch ids) blanked: what makes two failures the same. */
function sameFailure(message: string): string {
  return message.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>');
}

export function errorResponse(c: Context, err: unknown): Response {
  // The request id is set first thing (api/headers.ts); a fresh one if even that did not run.
  const requestId = (c.get('requestId') as string | undefined) ?? crypto.randomUUID();
  const e = publicError(err, requestId);
  const headers: Record<string, string> = e.retryAfterS !== undefined ? { 'retry-after': String(e.retryAfterS) } : {};
  return c.json(e.body() satisfies ErrorBody, e.status, headers);
}
