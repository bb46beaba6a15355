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
  /** Principals whose lease is being fetched: concurrent requests then take only their cost. */
  private readonly fetching = new Set<string>();

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
    // One lease at a time per principal: requests that arrive while it is being fetched ask the
    // object for just their own cost (waiting for another request's fetch would tie this
    // request to that one's I/O, which workerd does not allow).
    const leader = !this.fetching.has(name);
    const want = leader ? Math.max(cost, Math.min(rate.burst, leaseSize(rate))) : cost;
    if (leader) this.fetching.add(name);
    let verdict: { granted: number; retryAfterMs: number | null };
    try {
      const stub = this.ns.get(this.ns.idFromName(name));
      const res = await stub.fetch('https://rate-limiter.invalid/take', { method: 'POST', body: JSON.stringify({ min: cost, want, rate }) });
      if (!res.ok) throw new Error(`rate limiter answered ${res.status}: ${await res.text()}`);
      verdict = (await res.json()) as { granted: number; retryAfterMs: number | null };
    } finally {
      if (leader) this.fetching.delete(name);
    }
    if (verdict.granted >= cost) {
      const extra = verdict.granted - cost;
      if (extra > 0) {
        const current = this.leases.get(name);
        const kept = current && current.expiresAt > this.now() ? current.tokens : 0;
        this.leases.delete(name); // re-inserted last: the map's order is the eviction order
        this.leases.set(name, { tokens: kept + extra, expiresAt: this.now() + LEASE_MS });
        if (this.leases.size > 10_000) this.leases.delete(this.leases.keys().next().value!);
      }
      return;
    }
    const who = principal.kind === 'key' ? `key "${principal.id}"` : 'client';
    if (verdict.retryAfterMs === null) throw new ApiError('rate_limited', `this request costs ${cost} tokens, more than the ${rate.burst} the ${who} may spend at once`);
    const retryAfterS = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    throw new ApiError('rate_limited', `rate limit of ${rate.perSecond}/s (burst ${rate.burst}) exceeded for the ${who}; retry in ${retryAfterS} s`, undefined, retryAfterS);
  }
}
