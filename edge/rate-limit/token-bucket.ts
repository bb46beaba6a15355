// A token bucket: `burst` tokens at most, refilled at `perSecond`. take() either spends the
// tokens or says how long until there are enough.
import type { RateLimit } from '../config/index.ts';

export interface TakeResult {
  ok: boolean;
  /** Tokens left after this request (rounded down). */
  remaining: number;
  /** When refused: ms until `cost` tokens are available. */
  retryAfterMs: number;
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private rate: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = rate.burst;
    this.updatedAt = now();
  }

  take(cost: number, rate: RateLimit = this.rate): TakeResult {
    // A changed configuration applies from now on; the tokens already earned are kept.
    this.refill();
    this.rate = rate;
    this.tokens = Math.min(this.tokens, rate.burst);
    if (cost > rate.burst) return { ok: false, remaining: Math.floor(this.tokens), retryAfterMs: Infinity };
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return { ok: true, remaining: Math.floor(this.tokens), retryAfterMs: 0 };
    }
    return { ok: false, remaining: Math.floor(this.tokens), retryAfterMs: Math.ceil(((cost - this.tokens) / rate.perSecond) * 1000) };
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((t - this.updatedAt) / 1000) * this.rate.perSecond);
    this.updatedAt = t;
  }
}
