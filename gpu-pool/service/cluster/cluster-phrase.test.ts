// Phrase search through a real local cluster (3 processes, 4 shards, 2 replicas) on an index built
// from constructed phrase vectors: every query given as vectors gets exactly its span, and the
// top-10 (phrases, and each coarser unit) equals a single Searcher holding every shard; queries
// given as text are encoded by the router as the Searcher encodes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhraseUnit, WireQuery } from '../../../shared/protocol/index.ts';
import { rng, spanQuery } from '../../engine/phrase/store/test-helpers.ts';
import { Searcher } from '../../engine/search/index.ts';
import { constructedPhraseIndex, PHRASE_DIM, type ConstructedPhraseIndex } from '../../../test/phrase-index-fixture.ts';
import { startTestCluster, type TestCluster } from '../../../test/pool/harness.ts';

const work = mkdtempSync(join(tmpdir(), 'es-cluster-phrase-'));
let built: ConstructedPhraseIndex;
let pool: TestCluster;
let searcher: Searcher;

beforeAll(async () => {
  built = await constructedPhraseIndex(join(work, 'constructed'), 60, 4);
  searcher = await Searcher.open(built.dir, { log: () => {} });
  // Every query must be answered to be compared: no shedding on a loaded machine.
  pool = await startTestCluster(built.dir, { nodes: 3, replicas: 2, shards: 4, overrides: { batching: { maxQueueDelayMs: 600_000, maxQueue: 4096 } } });
}, 300_000);
afterAll(async () => {
  await pool?.stop();
  await searcher?.close();
  rmSync(work, { recursive: true, force: true });
});

/** 40 spans of 1..4 words in random passages, with the query vectors that single them out. */
function spans() {
  const r = rng(33);
  return Array.from({ length: 40 }, (_, n) => {
    const p = Math.floor(r() * built.passages.length);
    const words = built.passages[p].text.split(' ');
    const i = Math.floor(r() * words.length);
    const j = Math.min(words.length - 1, i + Math.floor(r() * 4));
    return { id: `s${n}`, p, text: words.slice(i, j + 1).join(' '), vectors: spanQuery(built.passages[p], i, j, PHRASE_DIM) };
  });
}

describe('local pool cluster over a phrase index', () => {
  it('answers each query given as vectors with its span, and every unit as a single node does', { timeout: 240_000 }, async () => {
    const units: PhraseUnit[] = ['phrase', 'sentence', 'passage', 'document'];
    const cases = spans();
    const all: WireQuery[] = units.flatMap((unit) => cases.map((c) => ({ id: `${unit}:${c.id}`, mode: 'phrase' as const, k: 10, phrase: c.vectors, params: { unit } })));
    const frames: WireQuery[][] = [];
    for (let i = 0, size = 1; i < all.length; i += size, size = (size % 5) + 1) frames.push(all.slice(i, i + size));
    const results = (await Promise.all(frames.map((f) => pool.client.search(f, { deadlineMs: 60_000 })))).flatMap((r) => r.results);
    expect(results).toHaveLength(all.length);
    const byId = new Map(results.map((r) => [r.id, r]));
    for (const unit of units) {
      const single = await searcher.search('phrase', cases.map((c) => ({ id: c.id, text: '', k: 10, phrase: c.vectors, params: { unit } })));
      cases.forEach((c, n) => {
        const r = byId.get(`${unit}:${c.id}`)!;
        expect(r.error, r.id).toBeUndefined();
        expect(r.partial, r.id).toBeUndefined();
        const key = (h: { docId: string; span?: { start: number; end: number } }) => `${h.docId}@${h.span?.start ?? ''}-${h.span?.end ?? ''}`;
        expect(r.hits.map(key), r.id).toEqual(single[n].map(key));
        r.hits.forEach((h, i) => expect(Math.abs(h.score - single[n][i].score), r.id).toBeLessThan(1e-4));
        if (unit === 'phrase') {
          expect(r.hits[0].span?.text, r.id).toBe(c.text);
          expect(r.hits[0].text.slice(r.hits[0].span!.start, r.hits[0].span!.end)).toBe(c.text);
          expect(r.hits[0].text).toBe(built.passages[c.p].text);
        }
      });
    }
  });

  it('encodes a query given as text as the single node does', { timeout: 60_000 }, async () => {
    const texts = ['alpha beta', 'sigma tau upsilon'];
    const { results } = await pool.client.search(texts.map((t, i) => ({ id: `t${i}`, mode: 'phrase', k: 5, text: t })));
    const single = await searcher.search('phrase', texts.map((t, i) => ({ id: `t${i}`, text: t, k: 5 })));
    results.forEach((r, i) => {
      expect(r.error).toBeUndefined();
      expect(r.hits.map((h) => h.span?.text)).toEqual(single[i].map((h) => h.span?.text));
    });
  });

  it('refuses, per query, a mode the index cannot serve', async () => {
    const { results } = await pool.client.search([{ id: 'c', mode: 'colbert', k: 5, text: 'alpha' }]);
    expect(results[0].error?.message).toMatch(/cannot answer mode "colbert": it holds phrase, not colbert \(build it with --method colbert\)$/);
  });
});
