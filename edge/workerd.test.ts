// The edge worker in the real Workers runtime (wrangler dev → workerd), before any pool exists:
// configuration errors, routing of unknown paths, the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type EdgeServer } from '../test/edge/harness.ts';

let edge: EdgeServer;

beforeAll(async () => {
  edge = await startEdge({ POOL_ENDPOINTS: 'http://127.0.0.1:9', POOL_SIGNING_KEY: 'k' });
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
});
