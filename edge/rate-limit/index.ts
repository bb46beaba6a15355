// Per-principal rate limits: a token bucket in a Durable Object per key or client IP.
export { TokenBucket, type TakeResult } from './token-bucket.ts';
export { RateLimiter, TakeRequest } from './rate-limiter-object.ts';
export { takeTokens, type RateLimiterNamespace } from './rate-limit-client.ts';
