// The edge worker in the real Workers runtime (wrangler dev → workerd) with no pool behind it:
// unknown paths, health of a dead pool, the OpenAPI document, public mode's limits per client
// address (IPv6 by prefix, unreadable addresses in one strict bucket), security headers and
// request ids, and 5xx answers that keep the pool's address to the log.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, testKey, waitForOutput, type EdgeServer } from '../test/edge/harness.ts';

let edge: EdgeServer;
const admin = testKey('ops', ['admin']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  edge = await startEdge({
    POOL_ENDPOINTS: 'http://127.0.0.1:9',
    POOL_SIGNING_KEY: 'k',
    API_KEYS: JSON.stringify([admin.entry]),
    PUBLIC_MODE: 'true',
    PUBLIC_RATE: JSON.stringify({ perSecond: 0.05, burst: 2 }),
    UNKNOWN_CLIENT_RATE: JSON.stringify({ perSecond: 0.05, burst: 1 }),
    REQUEST_DEADLINE_MS: '200',
  });
}, 120_000);
afterAll(async () => {
  await edge?.stop();
});

/** A keyless search, from `ip` when given (wrangler dev passes a client's CF-Connecting-IP on; without one it sets 127.0.0.1). */
const search = (headers: Record<string, string> = {}) =>
  fetch(`${edge.url}/v1/search`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: 'x', mode: 'bm25' }) });
const from = async (ip: string) => {
  const res = await search({ 'cf-connecting-ip': ip });
  await res.arrayBuffer();
  return res.status;
};

/** GET with a Host header of our choosing (fetch would send the URL's). */
function getWithHost(path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${edge.url}${path}`, { headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('edge worker in workerd (wrangler dev)', () => {
  it('returns a JSON error for unknown routes, with a request id and the security headers', async () => {
    const res = await fetch(`${edge.url}/v1/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /v1/nope' } });
    expect(res.headers.get('x-request-id')).toMatch(UUID);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    // A new id per request; one a caller sends is not taken.
    const again = await fetch(`${edge.url}/v1/nope`, { headers: { 'x-request-id': 'chosen-by-caller' } });
    expect(again.headers.get('x-request-id')).toMatch(UUID);
    expect(again.headers.get('x-request-id')).not.toBe(res.headers.get('x-request-id'));
  });

  it('reports the pool down in public health without naming it; the admin view does', async () => {
    const res = await fetch(`${edge.url}/v1/health`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ edge: 'ok', pool: 'down' });
    expect(text).not.toMatch(/127\.0\.0\.1|http:/);
    expect((await fetch(`${edge.url}/v1/admin/health`)).status).toBe(401);
    const adminView = await fetch(`${edge.url}/v1/admin/health`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(adminView.status).toBe(503);
    expect(await adminView.json()).toMatchObject({ edge: 'ok', pool: 'down', endpoints: [{ url: 'http://127.0.0.1:9', weight: 1, breaker: 'closed', ready: false, detail: expect.any(String) }] });
  });

  it('serves an OpenAPI 3.1 document generated from the request schemas, with a relative server whatever the Host', async () => {
    const doc = await (await fetch(`${edge.url}/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(['/', '/openapi.json', '/v1/search', '/v1/search/batch', '/v1/health', '/v1/admin/health', '/v1/admin/stats']);
    const req = doc.components.schemas.SearchRequest;
    expect(req.required).toEqual(['query']);
    expect(req.properties.k).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 10 });
    expect(req.properties.mode.enum).toEqual(['dense', 'bm25', 'hybrid', 'colbert', 'phrase']);
    expect(doc.components.schemas.BatchRequest.properties.queries.maxItems).toBe(32);
    expect(Object.keys(doc.components.schemas.Health.properties)).toEqual(['edge', 'pool', 'indexVersion']);
    expect(doc.servers).toEqual([{ url: '/' }]);
    // workerd builds the request URL from the Host header; the document must not repeat it.
    const evil = await getWithHost('/openapi.json', 'evil.example');
    expect(evil.status).toBe(200);
    expect(evil.body).not.toContain('evil.example');
    expect(JSON.parse(evil.body).servers).toEqual([{ url: '/' }]);
  });

  it('in public mode limits keyless searches per client IP, and a forged X-Real-IP does not reset it', async () => {
    const first = await search();
    // Admitted, then the unreachable pool: 503 or 504, with a generic message naming the request id.
    expect([503, 504]).toContain(first.status);
    const id = first.headers.get('x-request-id')!;
    const { error } = await first.json();
    expect(error.message).toBe(`${error.code === 'pool_unavailable' ? 'the search pool is unavailable' : 'the search pool did not answer in time'}; retry later (request id ${id})`);
    expect(error.message).not.toMatch(/127\.0\.0\.1|:9\b/);
    // The detail (which endpoint, what went wrong) is in the log, under that id.
    await waitForOutput(edge, new RegExp(`\\[request ${id}\\] 50[34] \\w+: .*http://127\\.0\\.0\\.1:9`));
    await (await search()).arrayBuffer();
    const limited = await search();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await limited.json()).error.code).toBe('rate_limited');
    expect((await search({ 'x-real-ip': '203.0.113.9' })).status).toBe(429);
    // Public mode never opens admin routes.
    expect((await fetch(`${edge.url}/v1/admin/stats`)).status).toBe(401);
  });

  it('buckets IPv6 clients by /64: rotating the interface id does not buy a fresh bucket', async () => {
    // Three spellings of addresses in 2001:db8:aa:1::/64 spend one bucket of 2.
    expect(await from('2001:db8:aa:1::1')).not.toBe(429);
    expect(await from('2001:0DB8:00AA:0001:ffff:eeee:dddd:cccc')).not.toBe(429);
    expect(await from('2001:db8:aa:1:1234:5678:9abc:def0')).toBe(429);
    expect(await from('2001:db8:aa:1::99')).toBe(429);
    // The neighbouring /64 has a bucket of its own.
    expect(await from('2001:db8:aa:2::1')).not.toBe(429);
    // IPv4 by the whole address; IPv4-mapped IPv6 is the same client.
    expect(await from('198.51.100.7')).not.toBe(429);
    expect(await from('::ffff:198.51.100.7')).not.toBe(429);
    expect(await from('198.51.100.7')).toBe(429);
    expect(await from('198.51.100.8')).not.toBe(429);
  });

  it('puts callers without a readable address in one strict bucket (UNKNOWN_CLIENT_RATE)', async () => {
    // wrangler dev always sets CF-Connecting-IP (127.0.0.1 when the client sends none), so an
    // unreadable value stands in for a missing one here; both take the same path.
    expect(await from('not-an-address')).not.toBe(429);
    expect(await from('also garbage')).toBe(429);
    expect(await from('203.0.113.50, 10.0.0.1')).toBe(429);
    expect(await from('203.0.113.50')).not.toBe(429);
  });
});
