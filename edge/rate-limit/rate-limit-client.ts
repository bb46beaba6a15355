// The worker's side of rate limiting. Asking the principal's Durable Object on every request
// would add a round trip to each one, so an isolate takes a small lease of tokens at a time
// (a tenth of a second's worth, at most a tenth of the burst) and spends it locally; the
// object never hands out more than its bucket holds, so the limit holds across isolates, and
// unspent leased tokens expire (erring towards refusing). A refusal is a 429 with Retry-After.
import { ApiError } from '../../shared/api/index.ts';
import type { Principal } from '../auth/index.ts';
import type { RateLimit } from '../config/index.ts';

/** The parts of a Durable Object namespace binding used here. */
export interface RateLimiterNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/** How long leased tokens may be spent locally. */
const LEASE_MS = 1000;

interface Lease {
  tokens: number;
  expiresAt: number;
}

/** Tokens to ask for beyond this request's cost. */
export function leaseSize(rate: RateLimit): number {
  return Math.max(1, Math.floor(Math.min(rate.perSecond / 10, rate.burst / 10)));
}

export class RateLimitClient {
  private readonly leases = new Map<string, Lease>();

  constructor(
    private readonly ns: RateLimiterNamespace,
    private readonly now: () => number = Date.now,
  ) {}

  /** Spends `cost` tokens of the principal's bucket; throws a 429 ApiError when it cannot. */
  async take(principal: Principal, cost: number): Promise<void> {
    const name = `${principal.kind}:${principal.id}`;
    const lease = this.leases.get(name);
    if (lease && lease.expiresAt > this.now() && lease.tokens >= cost) {
      lease.tokens -= cost;
      return;
    }
    const rate = principal.rate;
    const want = Math.max(cost, Math.min(rate.burst, leaseSize(rate)));
    const stub = this.ns.get(this.ns.idFromName(name));
    const res = await stub.fetch('https://rate-limiter.invalid/take', { method: 'POST', body: JSON.stringify({ min: cost, want, rate }) });
    if (!res.ok) throw new Error(`rate limiter answered ${res.status}: ${await res.text()}`);
    const verdict = (await res.json()) as { granted: number; retryAfterMs: number | null };
    if (verdict.granted >= cost) {
      if (verdict.granted > cost) this.leases.set(name, { tokens: verdict.granted - cost, expiresAt: this.now() + LEASE_MS });
      else this.leases.delete(name);
      if (this.leases.size > 10_000) this.leases.delete(this.leases.keys().next().value!); // bound memory: oldest first
      return;
    }
    const who = principal.kind === 'key' ? `key "${principal.id}"` : 'client';
    if (verdict.retryAfterMs === null) throw new ApiError('rate_limited', `this request costs ${cost} tokens, more than the ${rate.burst} the ${who} may spend at once`);
    const retryAfterS = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    throw new ApiError('rate_limited', `rate limit of ${rate.perSecond}/s (burst ${rate.burst}) exceeded for the ${who}; retry in ${retryAfterS} s`, undefined, retryAfterS);
  }
}
