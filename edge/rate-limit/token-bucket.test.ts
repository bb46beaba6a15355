import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate and says when to retry', () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 2, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => bucket.take(1).ok)).toEqual([true, true, true]);
    expect(bucket.take(1)).toEqual({ ok: false, remaining: 0, retryAfterMs: 500 });
    now = 250;
    expect(bucket.take(1)).toMatchObject({ ok: false, retryAfterMs: 250 });
    now = 500;
    expect(bucket.take(1)).toMatchObject({ ok: true, remaining: 0 });
    now = 10_000;
    expect(bucket.take(2)).toMatchObject({ ok: true, remaining: 1 }); // capped at the burst
  });

  it('refuses a cost above the burst for good, and applies a changed rate', () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 1, burst: 2 }, () => now);
    expect(bucket.take(3).retryAfterMs).toBe(Infinity);
    expect(bucket.take(2, { perSecond: 10, burst: 2 }).ok).toBe(true);
    now = 100;
    expect(bucket.take(1, { perSecond: 10, burst: 2 }).ok).toBe(true);
  });
});
