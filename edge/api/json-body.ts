// Validates a JSON body against a zod schema at the boundary: 415 for another content type,
// 400 `invalid_json` for unparseable JSON, 400 `bad_request` naming the first wrong field (in
// the API's words, shared/api/validation.ts).
import type { Context, Env, MiddlewareHandler } from 'hono';
import { validator } from 'hono/validator';
import type { z } from 'zod';
import { ApiError, parseRequest } from '../../shared/api/index.ts';

/** Typed as taking the schema's input and giving its output, so the typed client sends inputs. */
type JsonValidator<T extends z.ZodType> = MiddlewareHandler<Env, string, { in: { json: z.input<T> }; out: { json: z.output<T> } }>;

export function jsonBody<T extends z.ZodType>(schema: T | ((c: Context) => T)): JsonValidator<T> {
  return validator('json', (value: unknown, c): z.output<T> => {
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(type)) {
      throw new ApiError('unsupported_media_type', `send the request as JSON (content-type: application/json), not ${JSON.stringify(type || 'nothing')}`);
    }
    return parseRequest(typeof schema === 'function' ? schema(c) : schema, value);
  }) as JsonValidator<T>;
}
