// A token bucket: `burst` tokens at most, refilled at `perSecond`. take() spends between `min`
// and `want` tokens (as many as there are), or says how long until `min` are there.
import type { RateLimit } from '../config/index.ts';

export interface TakeResult {
  /** Tokens spent: 0 when refused, else between min and want. */
  granted: number;
  /** Tokens left after this request (rounded down). */
  remaining: number;
  /** When refused: ms until `min` tokens are available (Infinity if min > burst). */
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

  take(min: number, want: number = min, rate: RateLimit = this.rate): TakeResult {
    // A changed configuration applies from now on; the tokens already earned are kept.
    this.refill();
    this.rate = rate;
    this.tokens = Math.min(this.tokens, rate.burst);
    if (min > rate.burst) return { granted: 0, remaining: Math.floor(this.tokens), retryAfterMs: Infinity };
    if (this.tokens >= min) {
      const granted = Math.max(min, Math.min(want, Math.floor(this.tokens)));
      this.tokens -= granted;
      return { granted, remaining: Math.floor(this.tokens), retryAfterMs: 0 };
    }
    return { granted: 0, remaining: Math.floor(this.tokens), retryAfterMs: Math.ceil(((min - this.tokens) / rate.perSecond) * 1000) };
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((t - this.updatedAt) / 1000) * this.rate.perSecond);
    this.updatedAt = t;
  }
}
