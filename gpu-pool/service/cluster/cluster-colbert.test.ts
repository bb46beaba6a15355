// Late interaction through a real local cluster (3 processes, 4 shards, 2 replicas) against one
// Searcher holding every shard: the same top-10 for 100 SciFact test queries in mode colbert
// and for BM25 re-ranked by ColBERT (MaxSim alone and fused), queries mixed in concurrent frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireQuery } from '../../../shared/protocol/index.ts';
import { scifactTestQueries } from '../../../test/fixtures.ts';
import { fixtureIndex } from '../../../test/index-fixture.ts';
import { referenceAnswers, startTestCluster, type ModeVariant, type Reference, type TestCluster } from '../../../test/pool/harness.ts';
import { expectReferenceHits } from '../../../test/pool/expect-reference.ts';

const VARIANTS: ModeVariant[] = [
  { name: 'colbert', mode: 'colbert' },
  { name: 'rerank', mode: 'bm25', rerank: { method: 'colbert', depth: 100, fuse: false } },
  { name: 'fused', mode: 'bm25', rerank: { method: 'colbert', depth: 100, fuse: true, weight: 0.4 } },
];
let index: string;
let pool: TestCluster;
let queries: { id: string; text: string }[];
let reference: Map<string, Reference>;

beforeAll(async () => {
  index = await fixtureIndex({ method: 'colbert', limit: 400, shards: 4 });
  queries = await scifactTestQueries(100);
  reference = await referenceAnswers(index, queries, VARIANTS);
  // Every query must be answered to be compared: no shedding (MaxSim over 512-d tokens is slow
  // on a loaded 2-core machine; the router would shed what it expects to wait too long, and the
  // 300 queries, sent at once, can outnumber the default queue of 256 while the first batches run).
  pool = await startTestCluster(index, { nodes: 3, replicas: 2, shards: 4, overrides: { batching: { maxQueueDelayMs: 600_000, maxQueue: 4096 } } });
}, 600_000);
afterAll(async () => {
  await pool?.stop();
});

describe('local pool cluster over a ColBERT index', () => {
  it('answers like a single node for colbert and for BM25 re-ranked by ColBERT', { timeout: 240_000 }, async () => {
    const all: WireQuery[] = VARIANTS.flatMap((v) => queries.map((q) => ({ id: `${v.name}:${q.id}`, mode: v.mode, k: 10, text: q.text, ...(v.rerank ? { rerank: v.rerank } : {}) })));
    const frames: WireQuery[][] = [];
    for (let i = 0, size = 1; i < all.length; i += size, size = (size % 7) + 1) frames.push(all.slice(i, i + size));
    // 512-d untrained token vectors on a 2-core machine: MaxSim is the work here, give it time.
    const results = (await Promise.all(frames.map((f) => pool.client.search(f, { deadlineMs: 180_000 })))).flatMap((r) => r.results);
    expect(results).toHaveLength(all.length);
    let nonEmpty = 0;
    for (const r of results) {
      const want = reference.get(r.id)!;
      expect(r.error, r.id).toBeUndefined();
      expect(r.partial, r.id).toBeUndefined();
      expectReferenceHits(r, want);
      if (r.hits.length > 0) nonEmpty++;
    }
    expect(nonEmpty).toBe(all.length);
  });

  it("carries both stages' scores and ranks on re-ranked hits", async () => {
    const [r] = (await pool.client.search([{ id: 'r', mode: 'bm25', k: 5, text: queries[0].text, rerank: { method: 'colbert', depth: 50, fuse: false } }])).results;
    expect(r.hits.length).toBe(5);
    for (const h of r.hits) {
      expect(h.branches?.first?.rank).toBeGreaterThanOrEqual(1);
      expect(h.branches?.rerank?.score).toBeCloseTo(h.score, 5);
    }
    expect(r.hits.map((h) => h.branches!.rerank!.rank)).toEqual([1, 2, 3, 4, 5]);
  });

  it("takes the query's token vectors when the caller sends them, and answers as if it had encoded the text", async () => {
    const [byText] = (await pool.client.search([{ id: 't', mode: 'colbert', k: 10, text: queries[1].text }])).results;
    const { Searcher } = await import('../../engine/search/index.ts');
    const searcher = await Searcher.open(index, { log: () => {} });
    const [tokens] = await (await searcher.tokenEncoder()).encodeQueryTokens([queries[1].text]);
    await searcher.close();
    const [byTokens] = (await pool.client.search([{ id: 'v', mode: 'colbert', k: 10, tokens }])).results;
    expect(byTokens.error).toBeUndefined();
    expect(byTokens.hits.map((h) => h.docId)).toEqual(byText.hits.map((h) => h.docId));
  });

  it('refuses, per query, a mode the index cannot serve, naming the index and what it holds; the rest of the frame is answered', async () => {
    const { results } = await pool.client.search([
      { id: 'd', mode: 'dense', k: 5, text: queries[0].text },
      { id: 'b', mode: 'bm25', k: 5, text: queries[0].text },
    ]);
    expect(results[0].hits).toEqual([]);
    expect(results[0].error?.code).toBe('bad-frame');
    expect(results[0].error?.message).toMatch(/^index [0-9a-f]+ cannot answer mode "dense": it holds colbert \+ bm25, not dense$/);
    expect(results[1].error).toBeUndefined();
    expect(results[1].hits).toHaveLength(5);
  });
});
