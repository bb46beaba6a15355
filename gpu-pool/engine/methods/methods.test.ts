import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureIndex, type FixtureOptions } from '../../../test/index-fixture.ts';
import { untrainedConversationalModel } from '../../../test/convdr-model-fixture.ts';
import { USE_LITE_MODEL } from '../../../test/index-fixture.ts';
import { randomPhraseModel } from '../../../test/phrase-index-fixture.ts';
import { Searcher } from '../search/index.ts';
import { runMethodContract, type ContractFixture } from './contract.test-suite.ts';
import type { MethodName } from './types.ts';

async function fixture(name: MethodName, opts: FixtureOptions = {}, conversationalModel?: string): Promise<ContractFixture> {
  const searcher = await Searcher.open(await fixtureIndex(opts), { conversationalModel });
  const shards = searcher.index.shards;
  const sample = await Promise.all(Array.from({ length: 12 }, (_, i) => shards[i % shards.length].passages.get(i * 3)));
  return {
    method: await searcher.method(name),
    passage: (hit) => shards[hit.shard].passages.get(hit.ordinal),
    sample,
    shardCount: shards.length,
    docsPerShard: shards.map((s) => s.passages.size),
  };
}

for (const name of ['dense', 'bm25', 'hybrid'] as const) runMethodContract(name, () => fixture(name));
// Late interaction, end to end (PLAID candidates, MaxSim over 2-bit residual tokens), and as a
// second stage over BM25 and fused with it: the same contract.
const COLBERT = { method: 'colbert', limit: 120 } as const;
runMethodContract('colbert', () => fixture('colbert', COLBERT));
for (const fuse of [false, true]) {
  runMethodContract(`bm25 re-ranked by colbert${fuse ? ', fused' : ''}`, async () => {
    const f = await fixture('bm25', COLBERT);
    const first = f.method;
    const rerank = { method: 'colbert', depth: 30, fuse } as const;
    return { ...f, method: { name: 'bm25', search: (queries) => first.search(queries.map((q) => ({ ...q, rerank }))) } };
  });
}
// Phrase retrieval aggregated to passages (phrases repeat a passage by design), over SciFact with
// BM25 postings, so the best BM25 passages are read; the heads are random: the contract is about
// behaviour, not quality.
runMethodContract('phrase (unit passage)', async () => {
  const model = await randomPhraseModel(join(await mkdtemp(join(tmpdir(), 'es-phrase-contract-')), 'model'), 16, 5);
  const f = await fixture('phrase', { method: 'phrase', model, limit: 120 });
  const inner = f.method;
  return { ...f, method: { name: 'phrase', search: (queries) => inner.search(queries.map((q) => ({ ...q, params: { ...q.params, unit: 'passage' } }))) } };
});
// Quantized indexes answer through the same contract (HNSW-PQ also checks that an index whose
// metric differs from the one asked for, L2 here, is still ranked best-first).
runMethodContract('dense over IVF-PQ', () => fixture('dense', { factory: 'IVF16,PQ16np', limit: 300 }));
runMethodContract('dense over HNSW-PQ', () => fixture('dense', { factory: 'HNSW32_PQ16np', limit: 300 }));

describe('hybrid fusion', () => {
  it('scores each hit as the weighted sum of reciprocal ranks of its branches', async () => {
    const searcher = await Searcher.open(await fixtureIndex());
    const hybrid = await searcher.method('hybrid');
    const params = { rrfK: 10, weights: { dense: 0.3, bm25: 2 } };
    const [hits] = await hybrid.search([{ id: 'q', text: 'tumor suppressor gene mutations', k: 10, params }]);
    expect(hits.length).toBe(10);
    for (const hit of hits) {
      const expected = (hit.branches?.dense ? 0.3 / (10 + hit.branches.dense.rank) : 0) + (hit.branches?.bm25 ? 2 / (10 + hit.branches.bm25.rank) : 0);
      expect(hit.score).toBeCloseTo(expected, 10);
    }
    // With the BM25 weight dominant, the first hit is BM25's first hit.
    expect(hits[0].branches?.bm25?.rank).toBe(1);
    const [denseOnly] = await hybrid.search([{ id: 'q', text: 'tumor suppressor gene mutations', k: 5, params: { weights: { dense: 1, bm25: 0 } } }]);
    const [dense] = await (await searcher.method('dense')).search([{ id: 'q', text: 'tumor suppressor gene mutations', k: 5 }]);
    expect(denseOnly.map((h) => h.ordinal * 10 + h.shard)).toEqual(dense.map((h) => h.ordinal * 10 + h.shard));
    await searcher.close();
  });
});

// A query with the conversation before it searches the text its policy forms: the same contract,
// with every query following two turns (the current utterance stays the query's own text).
const BEFORE = [{ query: 'Tell me about cancer treatment.', response: 'Chemotherapy and radiation are common.' }, { query: 'What about in mice?' }];
for (const [name, policy] of [
  ['dense', 'concat'],
  ['bm25', 'window:1'],
  ['hybrid', 'concat+responses'],
] as const) {
  runMethodContract(`${name} with context, policy ${policy}`, async () => {
    const f = await fixture(name);
    const inner = f.method;
    return { ...f, method: { name, search: (queries) => inner.search(queries.map((q) => ({ ...q, context: BEFORE, params: { ...q.params, policy } }))) } };
  });
}

// ConvDR: the conversation encoder over use-lite's dense index, queries with and without context.
runMethodContract('conversational', async () => {
  const model = await untrainedConversationalModel(await mkdtemp(join(tmpdir(), 'es-convdr-contract-')));
  const f = await fixture('conversational', { model: USE_LITE_MODEL }, model);
  const inner = f.method;
  // Half the queries (by their text, so a query is the same alone and in a batch) follow two turns.
  return { ...f, method: { name: 'conversational', search: (queries) => inner.search(queries.map((q) => (q.text.length % 2 ? { ...q, context: BEFORE } : q))) } };
});

describe('queries with context', () => {
  it('rank as the text their policy forms (within the encoder window), for dense, BM25 and hybrid', async () => {
    const searcher = await Searcher.open(await fixtureIndex());
    const current = 'Is it inherited?';
    const formed = {
      concat: 'Tell me about cancer treatment. What about in mice? Is it inherited?',
      'concat+responses': 'Tell me about cancer treatment. Chemotherapy and radiation are common. What about in mice? Is it inherited?',
      first: 'Tell me about cancer treatment. Is it inherited?',
      raw: current,
    };
    for (const mode of ['dense', 'bm25', 'hybrid'] as const) {
      const method = await searcher.method(mode);
      for (const [policy, text] of Object.entries(formed)) {
        const [withContext] = await method.search([{ id: 'c', text: current, k: 10, context: BEFORE, params: { policy } }]);
        const [plain] = await method.search([{ id: 'p', text, k: 10 }]);
        expect(withContext.map((h) => `${h.shard}:${h.ordinal}`), `${mode} ${policy}`).toEqual(plain.map((h) => `${h.shard}:${h.ordinal}`));
        withContext.forEach((h, j) => expect(h.score).toBeCloseTo(plain[j].score, 5));
      }
    }
    // The context changes the answer (else the test above proves nothing).
    const [raw] = await (await searcher.method('bm25')).search([{ id: 'r', text: current, k: 10 }]);
    const [concat] = await (await searcher.method('bm25')).search([{ id: 'c', text: current, k: 10, context: BEFORE }]);
    expect(concat.map((h) => h.ordinal)).not.toEqual(raw.map((h) => h.ordinal));
    await searcher.close();
  });

  it('mode conversational reads the conversation: alone, a query is the encoder’s; with turns before it, another vector', async () => {
    const model = await untrainedConversationalModel(await mkdtemp(join(tmpdir(), 'es-convdr-')));
    const searcher = await Searcher.open(await fixtureIndex({ model: USE_LITE_MODEL }), { conversationalModel: model });
    const query = { id: 'q', text: 'Is vitamin D deficiency inherited?', k: 10 };
    // Without context the three views are the same text: the mean adapter gives the encoder's vector back.
    const [alone] = await searcher.searchHits('conversational', [query]);
    const [dense] = await searcher.searchHits('dense', [query]);
    expect(alone.map((h) => h.docId)).toEqual(dense.map((h) => h.docId));
    alone.forEach((h, j) => expect(h.score).toBeCloseTo(dense[j].score, 4));
    const [followUp] = await searcher.searchHits('conversational', [{ ...query, context: BEFORE }]);
    expect(followUp.map((h) => h.docId)).not.toEqual(dense.map((h) => h.docId));
    await searcher.close();
    // A conversational model distilled from another encoder than the index's is refused.
    const other = await Searcher.open(await fixtureIndex(), { conversationalModel: model });
    await expect(other.search('conversational', [query])).rejects.toThrow(/was distilled from use-lite .* but index .* was built with .*: its vectors would not match|dimension mismatch/);
    await other.close();
  });

  it('mode conversational without a conversational model is refused, saying how to get one', async () => {
    const searcher = await Searcher.open(await fixtureIndex());
    await expect(searcher.search('conversational', [{ id: 'q', text: 'Is it inherited?', k: 5, context: BEFORE }])).rejects.toThrow(/needs a conversational model \(train one with `edgesearch convdr train`/);
    await searcher.close();
  });
});
