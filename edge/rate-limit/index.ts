// Per-principal rate limits: a token bucket in a Durable Object per key or client IP, spent
// through small per-isolate leases.
export { TokenBucket, type TakeResult } from './token-bucket.ts';
export { RateLimiter, TakeRequest } from './rate-limiter-object.ts';
export { RateLimitClient, leaseSize, type RateLimiterNamespace } from './rate-limit-client.ts';
