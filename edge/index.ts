// The edge worker (Cloudflare Workers): the Hono API, and the Durable Object classes that hold
// rate-limit buckets and stored conversations (bound in wrangler.toml).
import { createApp } from './api/index.ts';

export { RateLimiter } from './rate-limit/index.ts';
export { Conversation } from './conversation/index.ts';
export type { EdgeApp } from './api/index.ts';

export default createApp();
