// A real local cluster (3 processes, 4 shards, 2 replicas) against one Searcher holding every
// shard: same top-10, same scores, for dense, BM25 and hybrid; partial answers when a shard is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireQuery } from '../../../shared/protocol/index.ts';
import { scifactTestQueries } from '../../../test/fixtures.ts';
import { fixtureIndex, USE_LITE_MODEL } from '../../../test/index-fixture.ts';
import { referenceAnswers, startTestCluster, type ModeVariant, type Reference, type TestCluster } from '../../../test/pool/harness.ts';
import { expectReferenceHits } from '../../../test/pool/expect-reference.ts';
import type { MethodName } from '../../engine/methods/index.ts';

const MODES: MethodName[] = ['dense', 'bm25', 'hybrid'];
let index: string;
let pool: TestCluster;
let queries: { id: string; text: string }[];
let reference: Map<string, Reference>;
// Each query follows the two before it (with a response on one): what a conversation sends.
const before = (i: number) => [{ query: queries[(i + 38) % 40].text, response: queries[(i + 37) % 40].text }, { query: queries[(i + 39) % 40].text }];
const WITH_CONTEXT: ModeVariant[] = [
  { name: 'dense concat', mode: 'dense', context: before },
  { name: 'bm25 first', mode: 'bm25', params: { policy: 'first' }, context: before },
  { name: 'hybrid concat+responses', mode: 'hybrid', params: { policy: 'concat+responses' }, context: before },
  { name: 'dense window:1', mode: 'dense', params: { policy: 'window:1' }, context: before },
];

beforeAll(async () => {
  index = await fixtureIndex({ limit: 400, shards: 4, model: USE_LITE_MODEL });
  queries = await scifactTestQueries(40);
  reference = await referenceAnswers(index, queries, [...MODES, ...WITH_CONTEXT]);
  pool = await startTestCluster(index, { nodes: 3, replicas: 2, shards: 4 });
});
afterAll(async () => {
  await pool?.stop();
});

describe('local pool cluster', () => {
  it('answers like a single node for every mode, with queries arriving in concurrent frames', async () => {
    // Frames of 1 to 7 queries, all in flight at once, so dynamic batches mix frames and modes.
    const all: WireQuery[] = MODES.flatMap((mode) => queries.map((q) => ({ id: `${mode}:${q.id}`, mode, k: 10, text: q.text })));
    const frames: WireQuery[][] = [];
    for (let i = 0, size = 1; i < all.length; i += size, size = (size % 7) + 1) frames.push(all.slice(i, i + size));
    const results = (await Promise.all(frames.map((f) => pool.client.search(f)))).flatMap((r) => r.results);
    expect(results).toHaveLength(all.length);
    for (const r of results) {
      const want = reference.get(r.id)!;
      expect(r.error).toBeUndefined();
      expect(r.partial).toBeUndefined();
      expectReferenceHits(r, want);
      for (const h of r.hits) expect(h.text.length).toBeGreaterThan(0);
    }
  });

  it('forms queries from their context as a single node does, for every policy', async () => {
    const all: WireQuery[] = WITH_CONTEXT.flatMap((v) => queries.map((q, i) => ({ id: `${v.name}:${q.id}`, mode: v.mode, k: 10, text: q.text, context: v.context!(i), ...(v.params ? { params: v.params } : {}) })));
    const results = [];
    for (let i = 0; i < all.length; i += 8) results.push(...(await pool.client.search(all.slice(i, i + 8))).results);
    expect(results).toHaveLength(all.length);
    let differsFromRaw = 0;
    for (const r of results) {
      const want = reference.get(r.id)!;
      expect(r.error).toBeUndefined();
      expectReferenceHits(r, want);
      const cut = r.id.lastIndexOf(':');
      const [variant, id] = [r.id.slice(0, cut), r.id.slice(cut + 1)];
      const raw = reference.get(`${WITH_CONTEXT.find((v) => v.name === variant)!.mode}:${id}`)!;
      if (JSON.stringify(raw.ids) !== JSON.stringify(want.ids)) differsFromRaw++;
    }
    // The context mattered: most answers are not those of the bare query.
    expect(differsFromRaw).toBeGreaterThan(results.length / 2);
  });

  it('tells which index version answered, and returns per-branch ranks for hybrid', async () => {
    const r = await pool.client.search([{ id: 'h', mode: 'hybrid', k: 5, text: queries[0].text, params: { rrfK: 10, weights: { dense: 1, bm25: 2 } } }]);
    expect(r.indexVersion).toMatch(/^[0-9a-f]{16}$/);
    const hit = r.results[0].hits[0];
    expect(hit.branches?.bm25?.rank ?? hit.branches?.dense?.rank).toBeGreaterThanOrEqual(1);
    expect(r.timings.totalMs).toBeGreaterThan(0);
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    const url = pool.cluster.nodes[1].url;
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ status: 'ok', ready: true });
    const ready = await (await fetch(`${url}/readyz`)).json();
    expect(Object.keys(ready.shards).map(Number)).toEqual(pool.cluster.nodes[1].shards);
    const metrics = await (await fetch(`${pool.cluster.nodes[0].url}/metrics`)).text();
    expect(metrics).toMatch(/^edgesearch_batch_size_count [1-9]/m);
    expect(metrics).toMatch(/^edgesearch_stage_ms_count\{stage="encode"\} [1-9]/m);
    expect(metrics).toContain('# TYPE edgesearch_queue_depth gauge');
  });

  it('refuses unsigned and stale frames with 401 and an error frame', async () => {
    const body = new Uint8Array([0x80]);
    const unsigned = await fetch(`${pool.cluster.nodes[0].url}/v1/batch`, { method: 'POST', body, headers: { 'content-type': 'application/msgpack' } });
    expect(unsigned.status).toBe(401);
    const stale = await fetch(`${pool.cluster.nodes[0].url}/v1/batch`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/msgpack', 'x-edgesearch-timestamp': String(Date.now() - 3_600_000), 'x-edgesearch-signature': '00'.repeat(32) },
    });
    expect(stale.status).toBe(401);
  });

  it('marks answers partial, naming the shard, when no replica of it is left', async () => {
    // Shard s lives on nodes s and s+1 (mod 3): killing nodes 1 and 2 loses shard 1 (nodes 1, 2) only.
    await pool.cluster.kill('node1');
    await pool.cluster.kill('node2');
    const r = await pool.client.search([{ id: 'p', mode: 'bm25', k: 10, text: queries[1].text }], { deadlineMs: 3000 });
    const [result] = r.results;
    expect(result.partial?.missingShards).toEqual([1]);
    expect(result.hits.length).toBeGreaterThan(0);
    expect(result.hits.every((h) => h.shard !== 1)).toBe(true);
    const want = reference.get(`bm25:${queries[1].id}`)!;
    // What is left is the single node's ranking with shard 1's documents taken out.
    const kept = result.hits.map((h) => h.docId);
    expect(want.ids.filter((id) => kept.includes(id))).toEqual(kept.filter((id) => want.ids.includes(id)));
  });
});
