// The Durable Object that holds one principal's token bucket (one object per key id or client
// IP, so every isolate of every location draws from the same bucket). The bucket lives in
// memory: if the object is evicted after being idle it comes back full, which only ever errs
// towards letting a quiet client through.
import { RateLimit } from '../config/index.ts';
import { TokenBucket } from './token-bucket.ts';
import { z } from 'zod';

export const TakeRequest = z.strictObject({ cost: z.number().int().min(1).max(10_000), rate: RateLimit });

export class RateLimiter {
  private bucket?: TokenBucket;

  // The runtime passes (state, env); the bucket needs neither.
  constructor(_state?: unknown, _env?: unknown) {}

  async fetch(request: Request): Promise<Response> {
    const parsed = TakeRequest.safeParse(await request.json().catch(() => undefined));
    if (!parsed.success) return Response.json({ error: parsed.error.issues[0].message }, { status: 400 });
    const { cost, rate } = parsed.data;
    this.bucket ??= new TokenBucket(rate);
    const result = this.bucket.take(cost, rate);
    return Response.json({ ...result, retryAfterMs: Number.isFinite(result.retryAfterMs) ? result.retryAfterMs : null });
  }
}
