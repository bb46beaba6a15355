// Turns every failure into the API's error shape `{error: {code, message, field?}}`.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, type ErrorBody } from '../../shared/api/index.ts';
import { ConfigError } from '../config/index.ts';

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

export function errorResponse(c: Context, err: unknown): Response {
  const e = toApiError(err);
  if (e.code === 'internal' && !(err instanceof ApiError)) console.error('edge error', err);
  const headers: Record<string, string> = e.retryAfterS !== undefined ? { 'retry-after': String(e.retryAfterS) } : {};
  return c.json(e.body() satisfies ErrorBody, e.status, headers);
}
