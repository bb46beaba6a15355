// A pool that is down, as workerd (wrangler dev) sees it: every router a closed loopback port.
// The first requests find the routers dead and open their circuits; from then on the edge answers
// 503 `pool_unavailable` with Retry-After within milliseconds, instead of retrying until the
// deadline (it took 4.5 s), and its answers are those the OpenAPI document describes.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_KEY } from '../pool/harness.ts';
import { startEdge, testKey, type EdgeServer } from './harness.ts';
import { OpenApiChecker } from './openapi-check.ts';

const user = testKey('loadtester', ['search', 'admin'], { perSecond: 1e6, burst: 1e6 });
let edge: EdgeServer;
let dead: string[];
let checker: OpenApiChecker;

/** Loopback ports that were free a moment ago and have nothing listening: connections are refused. */
async function closedPorts(n: number): Promise<string[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = http.createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return s;
    }),
  );
  const urls = servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return urls;
}

async function search(query: string): Promise<{ ms: number; status: number; headers: Headers; body: { error?: { code: string; message: string } } }> {
  const t0 = performance.now();
  const res = await fetch(`${edge.url}/v1/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}` },
    body: JSON.stringify({ query, mode: 'bm25', k: 5, cache: false }),
  });
  const body = await res.json();
  return { ms: performance.now() - t0, status: res.status, headers: res.headers, body };
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

beforeAll(async () => {
  dead = await closedPorts(2);
  // 3 failures open a circuit (the default), for 60 s: the 100 requests measured all find the
  // circuits open (with the default 2 s, a request every 2 s probes a router, and waits for it).
  edge = await startEdge({ POOL_ENDPOINTS: dead.join(','), POOL_SIGNING_KEY: SIGNING_KEY, API_KEYS: JSON.stringify([user.entry]), BREAKER_COOLDOWN_MS: '60000' });
  checker = new OpenApiChecker(await (await fetch(`${edge.url}/openapi.json`)).json());
}, 300_000);
afterAll(async () => {
  await edge?.stop();
});

describe('an edge whose pool is down', () => {
  it('opens the circuits, then answers 503 with Retry-After in milliseconds (p99 < 50 ms over 100 requests)', async () => {
    // Until both circuits are open (3 refused connections each), requests try the routers.
    const warmup: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await search(`warm-up ${i}`);
      expect(r.status).toBe(503);
      warmup.push(r.ms);
      const stats = await (await fetch(`${edge.url}/v1/admin/stats`, { headers: { authorization: `Bearer ${user.key}` } })).json();
      if (stats.endpoints.every((e: { breaker: string }) => e.breaker === 'open')) break;
    }
    const stats = await (await fetch(`${edge.url}/v1/admin/stats`, { headers: { authorization: `Bearer ${user.key}` } })).json();
    expect(stats.endpoints.map((e: { breaker: string }) => e.breaker)).toEqual(['open', 'open']);

    // Up to three rounds of 100: the best round must have p99 < 50 ms. The 503 path does no I/O;
    // what varies is the machine (other test files encode queries on the same cores), and one
    // busy second should not fail the test when the next round shows the edge answering fast.
    const rounds: { p50: number; p99: number; max: number }[] = [];
    for (let round = 0; round < 3; round++) {
      const latencies: number[] = [];
      for (let i = 0; i < 100; i++) {
        const r = await search(`pool down ${round}.${i}`);
        latencies.push(r.ms);
        expect(r.status).toBe(503);
        expect(r.body.error).toMatchObject({ code: 'pool_unavailable', message: expect.stringMatching(/^the search pool is unavailable; retry later \(request id [0-9a-f-]{36}\)$/) });
        const retryAfter = Number(r.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60); // when the first circuit half-opens
        checker.check('POST', '/v1/search', r);
      }
      rounds.push({ p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) });
      if (rounds.at(-1)!.p99 < 50) break;
    }
    const f = (ms: number) => ms.toFixed(1);
    console.log(
      `pool down: ${warmup.length} request(s) (${warmup.map((ms) => ms.toFixed(0)).join(', ')} ms) opened both circuits; then per 100 × 503: ` +
        rounds.map((r) => `p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms, max ${f(r.max)} ms`).join('; '),
    );
    expect(Math.min(...rounds.map((r) => r.p99))).toBeLessThan(50);
    // Even the requests that found the circuits closed did not wait for the 5 s deadline.
    expect(Math.max(...warmup)).toBeLessThan(2000);
  });

  it('says so in /v1/health, and answers a batch with an error per query, as the document describes', async () => {
    // Let the readiness cache (1 s) expire so health asks the routers.
    await new Promise((r) => setTimeout(r, 1100));
    const health = await fetch(`${edge.url}/v1/health`);
    const body = await health.json();
    expect(health.status).toBe(503);
    expect(body).toMatchObject({ edge: 'ok', pool: 'down' });
    checker.check('GET', '/v1/health', { status: health.status, headers: health.headers, body });

    const t0 = performance.now();
    const batch = await fetch(`${edge.url}/v1/search/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.key}` },
      body: JSON.stringify({ queries: [{ query: 'a' }, { query: 'b', cache: false }] }),
    });
    const results = await batch.json();
    const ms = performance.now() - t0;
    expect(batch.status).toBe(200);
    expect(results.results.map((r: { error?: { code: string } }) => r.error?.code)).toEqual(['pool_unavailable', 'pool_unavailable']);
    checker.check('POST', '/v1/search/batch', { status: batch.status, headers: batch.headers, body: results });
    expect(ms).toBeLessThan(1000);
  });
});
