// Edge behaviour that needs the real runtime and a real pool: micro-batching of concurrent
// requests, coalescing of identical misses, failover around a dead endpoint, and the cache
// never serving an index version the pool has left (the pool's version promise).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchRequestInput } from '../../shared/api/index.ts';
import { createClient, type EdgeSearchClient } from '@edgesearch/client';
import { readIndexManifest } from '../../gpu-pool/engine/shard/index.ts';
import { fixtureIndex, newerFixture } from '../index-fixture.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { SIGNING_KEY, adminSwap, startSoloNode, type SoloNode } from '../pool/harness.ts';
import { startDelayProxy, startEdge, testKey, type EdgeServer } from './harness.ts';

let pool: SoloNode;
let slowPool: { url: string; close(): Promise<void> };
let edge: EdgeServer;
let v1: string;
let v2: string;
let queries: { id: string; text: string }[];
const user = testKey('user', ['search', 'admin'], { perSecond: 1000, burst: 1000 });

let es: EdgeSearchClient | undefined;
const search = (body: SearchRequestInput) => es!.search(body);
const stats = () => es!.adminStats();

async function swapAll(index: string): Promise<void> {
  const manifest = await readIndexManifest(index);
  for (const [shard, s] of manifest.shards.entries()) {
    const res = await adminSwap(pool.node.url, { shard, dir: join(index, s.dir) });
    expect(res.status, await res.text()).toBe(200);
  }
}

beforeAll(async () => {
  v1 = await fixtureIndex({ limit: 200, shards: 2 });
  // A newer version of v1 beside it (the pool swaps only to shards under its index root).
  v2 = await newerFixture(v1, 'v2', { add: { from: 200, count: 60 } });
  queries = await scifactTestQueries(60);
  // Admission by expected delay is off: a shed query would be asked again, and this file counts queries.
  pool = await startSoloNode(v1, 2, { batching: { maxQueueDelayMs: 600_000 } });
  // Each pool call takes at least 100 ms, so requests sent together are in flight together
  // however the test machine schedules them.
  slowPool = await startDelayProxy(pool.node.url, 100);
  edge = await startEdge({
    // A dead endpoint first: the edge must route around it.
    POOL_ENDPOINTS: JSON.stringify([{ url: 'http://127.0.0.1:9', weight: 1 }, { url: slowPool.url, weight: 1 }]),
    POOL_SIGNING_KEY: SIGNING_KEY,
    API_KEYS: JSON.stringify([user.entry]),
    BATCH_WINDOW_MS: '5',
    // Once open, the dead endpoint's circuit stays open for the rest of the file.
    BREAKER_COOLDOWN_MS: '600000',
  });
  es = createClient({ endpoint: edge.url, apiKey: user.key, retry: false });
}, 300_000);
afterAll(async () => {
  await edge?.stop();
  await slowPool?.close();
  await pool?.close();
});

describe('edge in front of the pool', () => {
  it('routes around a dead endpoint (retry, then an open circuit)', async () => {
    // Each request draws the dead endpoint first with probability ½; 3 failures open its circuit
    // (fewer than 3 in 24 draws: p ≈ 2e-5).
    for (let i = 0; i < 24; i++) expect((await search({ query: queries[i].text, mode: 'bm25', k: 3, cache: false })).hits).toHaveLength(3);
    const { endpoints } = await stats();
    expect(endpoints.find((e) => e.url === 'http://127.0.0.1:9')!.breaker).toBe('open');
    expect(endpoints.find((e) => e.url === slowPool.url)!.breaker).toBe('closed');
  });

  it('packs concurrent requests into fewer pool frames, each answered with its own hits', async () => {
    const before = await stats();
    const qs = queries.slice(0, 40);
    const answers = await Promise.all(qs.map((q) => search({ query: q.text, mode: 'dense', k: 5, cache: false })));
    const after = await stats();
    const frames = after.batches.frames - before.batches.frames;
    expect(after.batches.queries - before.batches.queries).toBe(40);
    expect(frames).toBeLessThan(40);
    expect(after.batches.largest).toBeGreaterThan(1);
    for (const [i, q] of qs.entries()) {
      const direct = await pool.client.search([{ id: q.id, mode: 'dense', k: 5, text: q.text }]);
      expect(answers[i].hits.map((h: { docId: string }) => h.docId)).toEqual(direct.results[0].hits.map((h) => h.docId));
    }
  });

  it('sends identical concurrent misses to the pool once', async () => {
    const before = await stats();
    const answers = await Promise.all(Array.from({ length: 8 }, () => search({ query: queries[50].text, mode: 'hybrid', k: 4 })));
    const after = await stats();
    expect(after.batches.queries - before.batches.queries).toBe(1);
    // The others waited for that call (or, arriving after its cache write, hit the cache).
    expect(after.coalesced - before.coalesced + answers.filter((a) => a.cached).length).toBe(7);
    expect(after.coalesced - before.coalesced).toBeGreaterThanOrEqual(4);
    for (const a of answers) expect(a.hits).toEqual(answers[0].hits);
  });

  it('never serves the cached answers of an index version the pool has left', async () => {
    const q = { query: queries[55].text, mode: 'bm25' as const, k: 10 };
    const first = await search(q);
    const again = await search(q);
    expect([first.cached, again.cached]).toEqual([false, true]);
    const m1 = await readIndexManifest(v1);
    expect(first.indexVersion).toBe(m1.version);

    // The pool promised v1 for a while with its first answer; the swap waits for that promise
    // to end, so right after it, with no other traffic, the repeat goes to the pool.
    await swapAll(v2);
    const after = await search(q);
    expect(after.cached).toBe(false);
    // (the router names a swapped-in mix of shard versions by a digest of them)
    expect(after.indexVersion).not.toBe(m1.version);
    const direct = await pool.client.search([{ id: 'x', mode: 'bm25', k: 10, text: queries[55].text }]);
    expect(direct.indexVersion).toBe(after.indexVersion);
    expect(after.hits.map((h: { docId: string }) => h.docId)).toEqual(direct.results[0].hits.map((h) => h.docId));
    expect((await search(q)).cached).toBe(true);

    // And on (the pool swaps forward only): the same, immediately after the swap returns.
    const removed = after.hits[0].docId;
    const v3 = await newerFixture(v2, 'v3', { remove: [removed] });
    await swapAll(v3);
    const next = await search(q);
    expect(next.cached).toBe(false);
    expect(next.indexVersion).not.toBe(after.indexVersion);
    const direct3 = await pool.client.search([{ id: 'x', mode: 'bm25', k: 10, text: queries[55].text }]);
    expect(next.indexVersion).toBe(direct3.indexVersion);
    expect(next.hits.map((h: { docId: string }) => h.docId)).toEqual(direct3.results[0].hits.map((h) => h.docId));
    expect(next.hits.map((h: { docId: string }) => h.docId)).not.toContain(removed);
  });
});
