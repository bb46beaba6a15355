// The edge worker (Cloudflare Workers): the Hono API, and the Durable Object class that holds
// rate-limit buckets (bound in wrangler.toml).
import { createApp } from './api/index.ts';

export { RateLimiter } from './rate-limit/index.ts';
export type { EdgeApp } from './api/index.ts';

export default createApp();
