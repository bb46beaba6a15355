import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureIndex } from '../../../../test/index-fixture.ts';
import { Searcher } from '../../search/index.ts';
import { NoTokenStoreError } from './index.ts';

const QUERIES = ['vitamin D and bone health', 'cancer cells immune response', 'gene expression in mice'];

describe('colbert over a real token index (use-lite tokens, 2-bit residuals, 2 shards)', () => {
  let searcher: Searcher;
  beforeAll(async () => {
    searcher = await Searcher.open(await fixtureIndex({ method: 'colbert', limit: 120 }));
  }, 300_000);
  afterAll(() => searcher?.close());

  it('end to end equals exact MaxSim over every stored passage when the candidates cover the shard', async () => {
    const tokens = await searcher.tokenEncoder();
    const colbert = await searcher.method('colbert');
    for (const text of QUERIES) {
      const [hits] = await colbert.search([{ id: 'q', text, k: 10, params: { candidates: 10000, nprobe: 64 } }]);
      const [q] = await tokens.encodeQueryTokens([text]);
      const all = searcher.index.shards.flatMap((shard, s) => {
        const ordinals = Uint32Array.from({ length: shard.passages.size }, (_, i) => i);
        const scores = shard.tokens!.maxSim(q, ordinals);
        return Array.from(ordinals, (o, i) => ({ key: `${s}:${o}`, score: scores[i] }));
      });
      all.sort((a, b) => b.score - a.score);
      expect(hits.map((h) => `${h.shard}:${h.ordinal}`)).toEqual(all.slice(0, 10).map((h) => h.key));
    }
  });

  it('re-ranks BM25 by MaxSim alone, or by a fusion of both z-scores with the given weight', async () => {
    const bm25 = await searcher.method('bm25');
    const tokens = await searcher.tokenEncoder();
    const text = QUERIES[0];
    const [first] = await bm25.search([{ id: 'q', text, k: 25 }]);
    const [q] = await tokens.encodeQueryTokens([text]);
    const maxsim = new Map(first.map((h) => [h, searcher.index.shards[h.shard].tokens!.maxSim(q, Uint32Array.of(h.ordinal))[0]]));

    const [reranked] = await bm25.search([{ id: 'q', text, k: 10, rerank: { method: 'colbert', depth: 25, fuse: false } }]);
    const byMaxSim = [...first].sort((a, b) => maxsim.get(b)! - maxsim.get(a)!);
    expect(reranked.map((h) => `${h.shard}:${h.ordinal}`)).toEqual(byMaxSim.slice(0, 10).map((h) => `${h.shard}:${h.ordinal}`));
    for (const h of reranked) {
      const orig = first.findIndex((f) => f.shard === h.shard && f.ordinal === h.ordinal);
      expect(h.branches?.first).toEqual({ score: first[orig].score, rank: orig + 1 });
      expect(h.score).toBeCloseTo(h.branches!.rerank!.score, 5);
    }

    const z = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
      return xs.map((x) => (x - m) / sd);
    };
    const zb = z(first.map((h) => h.score));
    const zm = z(first.map((h) => maxsim.get(h)!));
    const [fused] = await bm25.search([{ id: 'q', text, k: 10, rerank: { method: 'colbert', depth: 25, fuse: true, weight: 0.3 } }]);
    for (const h of fused) {
      const i = first.findIndex((f) => f.shard === h.shard && f.ordinal === h.ordinal);
      expect(h.score).toBeCloseTo(0.7 * zb[i] + 0.3 * zm[i], 4);
    }
  });
});

describe('an index without a token store', () => {
  it('refuses mode colbert and rerank colbert, naming the index directory', async () => {
    const searcher = await Searcher.open(await fixtureIndex());
    try {
      await expect(searcher.method('colbert')).rejects.toThrow(NoTokenStoreError);
      await expect(searcher.method('colbert')).rejects.toThrow(/shard-000 holds no ColBERT token store .*--method colbert/);
      const bm25 = await searcher.method('bm25');
      await expect(bm25.search([{ id: 'q', text: 'x', k: 5, rerank: { method: 'colbert', depth: 10, fuse: false } }])).rejects.toThrow(/holds no ColBERT token store/);
    } finally {
      await searcher.close();
    }
  });
});
