// Route guards: the edge runtime, authentication with a scope, rate limits and the body limit.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../../shared/api/index.ts';
import type { Principal } from '../auth/index.ts';
import type { EdgeEnv, Scope } from '../config/index.ts';
import { edgeRuntime, type EdgeRuntime } from '../runtime/index.ts';

export type EdgeBindings = { Bindings: EdgeEnv; Variables: { runtime: EdgeRuntime; principal: Principal; requestId: string } };

export const withRuntime: MiddlewareHandler<EdgeBindings> = async (c, next) => {
  c.set('runtime', await edgeRuntime(c.env ?? {}));
  await next();
};

export function requireScope(scope: Scope): MiddlewareHandler<EdgeBindings> {
  return async (c, next) => {
    // Cloudflare sets CF-Connecting-IP and overwrites a client's; other headers (X-Real-IP,
    // X-Forwarded-For) are the client's to choose, so they must not pick the rate-limit bucket.
    // (wrangler dev sets it to the socket's address, but passes on one the client sent.)
    const ip = c.req.header('cf-connecting-ip');
    c.set('principal', await c.var.runtime.auth.authenticate(c.req.header('authorization'), scope, ip));
    await next();
  };
}

/** Spends `cost` tokens of the caller's bucket; 429 with Retry-After when there are too few. */
export async function rateLimit(c: Context<EdgeBindings>, cost: number): Promise<void> {
  // Without the binding (wrangler.toml declares it) there is nothing to count against.
  await c.var.runtime.rateLimit?.take(c.var.principal, cost);
}

// Body-limit middlewares per runtime (the batch limit follows MAX_BATCH_QUERIES), not per request.
const bodyLimits = new WeakMap<EdgeRuntime, { search: MiddlewareHandler; batch: MiddlewareHandler }>();

function limiter(max: number, what: string): MiddlewareHandler {
  return bodyLimit({
    maxSize: max,
    onError: () => {
      throw new ApiError('payload_too_large', `the request body is larger than ${max} bytes, the most ${what} with valid fields can take`);
    },
  });
}

/**
 * 413 for a body larger than any valid request to its route can be: the limits are derived
 * from the per-query limits (shared/api/limits.ts), so no valid request is ever refused for size.
 */
export const limitBody: MiddlewareHandler<EdgeBindings> = (c, next) => {
  const runtime = c.var.runtime;
  let limits = bodyLimits.get(runtime);
  if (!limits) {
    const { maxSearchBodyBytes, maxBatchBodyBytes, maxBatchQueries } = runtime.config;
    limits = { search: limiter(maxSearchBodyBytes, 'a search'), batch: limiter(maxBatchBodyBytes, `a batch of ${maxBatchQueries} queries`) };
    bodyLimits.set(runtime, limits);
  }
  return (c.req.path === '/v1/search/batch' ? limits.batch : limits.search)(c, next);
};

/** The caller's region for endpoint preference (Cloudflare's continent code, when known). */
export function callerRegion(c: Context): string | undefined {
  const cf = (c.req.raw as Request & { cf?: { continent?: string } }).cf;
  return cf?.continent;
}
