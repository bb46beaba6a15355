// The worker's side of rate limiting: asks the principal's Durable Object for tokens and
// turns a refusal into a 429 with Retry-After.
import { ApiError } from '../../shared/api/index.ts';
import type { RateLimit } from '../config/index.ts';
import type { Principal } from '../auth/index.ts';

/** The parts of a Durable Object namespace binding used here. */
export interface RateLimiterNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

export async function takeTokens(ns: RateLimiterNamespace, principal: Principal, cost: number): Promise<{ remaining: number }> {
  const rate: RateLimit = principal.rate;
  const stub = ns.get(ns.idFromName(`${principal.kind}:${principal.id}`));
  const res = await stub.fetch('https://rate-limiter.invalid/take', { method: 'POST', body: JSON.stringify({ cost, rate }) });
  if (!res.ok) throw new Error(`rate limiter answered ${res.status}: ${await res.text()}`);
  const verdict = (await res.json()) as { ok: boolean; remaining: number; retryAfterMs: number | null };
  if (verdict.ok) return { remaining: verdict.remaining };
  if (verdict.retryAfterMs === null) {
    throw new ApiError('rate_limited', `this request costs ${cost} tokens, more than the ${rate.burst} the ${principal.kind === 'key' ? `key "${principal.id}"` : 'client'} may spend at once`);
  }
  const retryAfterS = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
  throw new ApiError('rate_limited', `rate limit of ${rate.perSecond}/s (burst ${rate.burst}) exceeded; retry in ${retryAfterS} s`, undefined, retryAfterS);
}
