// The edge worker in the real Workers runtime (wrangler dev → workerd) with no pool behind it:
// unknown paths, health of a dead pool, the OpenAPI document, public mode's per-IP limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type EdgeServer } from '../test/edge/harness.ts';

let edge: EdgeServer;

beforeAll(async () => {
  edge = await startEdge({
    POOL_ENDPOINTS: 'http://127.0.0.1:9',
    POOL_SIGNING_KEY: 'k',
    PUBLIC_MODE: 'true',
    PUBLIC_RATE: JSON.stringify({ perSecond: 0.05, burst: 2 }),
    REQUEST_DEADLINE_MS: '200',
  });
}, 120_000);
afterAll(async () => {
  await edge?.stop();
});

describe('edge worker in workerd (wrangler dev)', () => {
  it('returns a JSON error for unknown routes', async () => {
    const res = await fetch(`${edge.url}/v1/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /v1/nope' } });
  });

  it('reports the pool down in health when no endpoint answers', async () => {
    const res = await fetch(`${edge.url}/v1/health`);
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body).toMatchObject({ edge: 'ok', pool: 'down', endpoints: [{ url: 'http://127.0.0.1:9', weight: 1, breaker: 'closed', ready: false }] });
  });

  it('serves an OpenAPI 3.1 document generated from the request schemas', async () => {
    const doc = await (await fetch(`${edge.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(['/v1/search', '/v1/search/batch', '/v1/health']);
    const req = doc.components.schemas.SearchRequest;
    expect(req.required).toEqual(['query']);
    expect(req.properties.k).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 10 });
    expect(req.properties.mode.enum).toEqual(['dense', 'bm25', 'hybrid']);
    expect(doc.components.schemas.BatchRequest.properties.queries.maxItems).toBe(32);
  });

  it('in public mode limits keyless searches per client IP, and a forged X-Real-IP does not reset it', async () => {
    const search = (headers: Record<string, string> = {}) =>
      fetch(`${edge.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: 'x', mode: 'bm25' }) });
    const first = await search();
    // Admitted, then the unreachable pool: 503 or 504 with the pool's address in the message.
    expect([503, 504]).toContain(first.status);
    expect((await first.json()).error.message).toMatch(/127\.0\.0\.1:9/);
    await (await search()).arrayBuffer();
    const limited = await search();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await limited.json()).error.code).toBe('rate_limited');
    expect((await search({ 'x-real-ip': '203.0.113.9' })).status).toBe(429);
    // Public mode never opens admin routes.
    expect((await fetch(`${edge.url}/v1/admin/stats`)).status).toBe(401);
  });
});
