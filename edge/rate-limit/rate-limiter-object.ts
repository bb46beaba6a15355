// The Durable Object that holds one principal's token bucket (one object per key id or client
// address bucket, so every isolate of every location draws from the same bucket). The bucket lives in
// memory: if the object is evicted after being idle it comes back full, which only ever errs
// towards letting a quiet client through.
import { RateLimit } from '../config/index.ts';
import { TokenBucket } from './token-bucket.ts';
import { z } from 'zod';

export const TakeRequest = z
  .strictObject({ min: z.number().int().min(1).max(1_000_000), want: z.number().int().min(1).max(1_000_000), rate: RateLimit })
  .refine((r) => r.want >= r.min, { error: 'want must be at least min' });

export class RateLimiter {
  private bucket?: TokenBucket;

  // The runtime passes (state, env); the bucket needs neither.
  constructor(_state?: unknown, _env?: unknown) {}

  async fetch(request: Request): Promise<Response> {
    const parsed = TakeRequest.safeParse(await request.json().catch(() => undefined));
    if (!parsed.success) return Response.json({ error: parsed.error.issues[0].message }, { status: 400 });
    const { min, want, rate } = parsed.data;
    this.bucket ??= new TokenBucket(rate);
    const result = this.bucket.take(min, want, rate);
    return Response.json({ ...result, retryAfterMs: Number.isFinite(result.retryAfterMs) ? result.retryAfterMs : null });
  }
}
