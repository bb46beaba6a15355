// The edge worker (Cloudflare Workers, Hono). For now: health and a description of the API;
// routing to the GPU pool arrives with the pool protocol.
import { Hono } from 'hono';

export interface Env {
  POOL_ENDPOINTS?: string;
}

export const app = new Hono<{ Bindings: Env }>();

app.get('/v1/health', (c) =>
  c.json({ edge: 'ok', pool: c.env?.POOL_ENDPOINTS ? 'configured' : 'not configured' }),
);

app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));

export default app;
