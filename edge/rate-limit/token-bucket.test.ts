import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate and says when to retry', () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 2, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => bucket.take(1).granted)).toEqual([1, 1, 1]);
    expect(bucket.take(1)).toEqual({ granted: 0, remaining: 0, retryAfterMs: 500 });
    now = 250;
    expect(bucket.take(1)).toMatchObject({ granted: 0, retryAfterMs: 250 });
    now = 500;
    expect(bucket.take(1)).toMatchObject({ granted: 1, remaining: 0 });
    now = 10_000;
    expect(bucket.take(2)).toMatchObject({ granted: 2, remaining: 1 }); // capped at the burst
  });

  it('grants up to `want` when there is more than `min`, never more than it holds', () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 10, burst: 10 }, () => now);
    expect(bucket.take(1, 4)).toMatchObject({ granted: 4, remaining: 6 });
    expect(bucket.take(2, 100)).toMatchObject({ granted: 6, remaining: 0 });
    expect(bucket.take(1, 4)).toMatchObject({ granted: 0, retryAfterMs: 100 });
    now = 250;
    expect(bucket.take(1, 4)).toMatchObject({ granted: 2 });
  });

  it('refuses a cost above the burst for good, and applies a changed rate', () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 1, burst: 2 }, () => now);
    expect(bucket.take(3).retryAfterMs).toBe(Infinity);
    expect(bucket.take(2, 2, { perSecond: 10, burst: 2 }).granted).toBe(2);
    now = 100;
    expect(bucket.take(1, 1, { perSecond: 10, burst: 2 }).granted).toBe(1);
  });
});
