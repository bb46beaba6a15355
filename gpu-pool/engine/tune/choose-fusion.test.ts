import { describe, expect, it } from 'vitest';
import type { Qrels } from '../eval/index.ts';
import type { Hit } from '../methods/index.ts';
import { DEFAULT_FUSION, chooseFusion, foldOf, fusionCandidates } from './choose-fusion.ts';

let ordinal = 0;
const ids = new Map<string, number>();
const hit = (docId: string, score: number): Hit => ({ docId, score, shard: 0, ordinal: ids.get(docId) ?? (ids.set(docId, ordinal++), ids.get(docId)!) });

/**
 * 40 queries; query q's relevant document is `rel-q`. The dense branch ranks it first in 30 of
 * them, BM25 in 10; otherwise each branch puts it thirteenth, behind twelve noise documents.
 */
function scenario(): { lists: { id: string; dense: Hit[]; bm25: Hit[] }[]; qrels: Qrels } {
  const lists = [];
  const qrels: Qrels = new Map();
  for (let q = 0; q < 40; q++) {
    const id = `q${q}`;
    const rel = `rel-${q}`;
    qrels.set(id, new Map([[rel, 1]]));
    const ranked = (top: boolean, branch: string) => {
      const noise = Array.from({ length: 20 }, (_, i) => `${branch}-noise-${q}-${i}`);
      const order = top ? [rel, ...noise] : [...noise.slice(0, 12), rel, ...noise.slice(12)];
      return order.map((d, i) => hit(d, 100 - i));
    };
    lists.push({ id, dense: ranked(q < 30, 'd'), bm25: ranked(q >= 30, 'b') });
  }
  return { lists, qrels };
}

describe('chooseFusion', () => {
  it('offers the default first, each branch alone, and every weighting', () => {
    const c = fusionCandidates();
    expect(c[0]).toEqual(DEFAULT_FUSION);
    expect(c.slice(1, 3).map((f) => f.weights)).toEqual([{ dense: 0, bm25: 1 }, { dense: 1, bm25: 0 }]);
    expect(c).toHaveLength(3 + 4 * 9 + 2 * 9);
    expect(new Set(c.map((f) => JSON.stringify(f))).size).toBe(c.length);
  });

  it('picks a fusion at least as good as either branch alone, and reports the cross-validated figure', () => {
    const { lists, qrels } = scenario();
    const r = chooseFusion(lists, qrels, 'ndcg@10', 5);
    expect(r.references['dense only']).toBeCloseTo(30 / 40, 9);
    expect(r.references['bm25 only']).toBeCloseTo(10 / 40, 9);
    expect(r.chosen).toBeGreaterThanOrEqual(r.references['dense only']);
    // The relevant document is first in one branch and thirteenth in the other: fusion brings it into the top 10 everywhere.
    expect(r.chosen).toBeGreaterThan(0.75);
    expect(r.perFold.reduce((n, f) => n + f.queries, 0)).toBe(40);
    expect(r.crossValidated).toBeGreaterThan(0);
    expect(r.crossValidated).toBeLessThanOrEqual(r.chosen + 1e-12);
  });

  it('keeps BM25 alone when the dense branch only adds noise', () => {
    const { lists, qrels } = scenario();
    // BM25 ranks the relevant document first, then the dense branch's noise, which fusion would lift above it.
    const bm25Wins = lists.map((l) => {
      const noise = l.dense.filter((h) => !h.docId.startsWith('rel-'));
      const rel = l.bm25.find((h) => h.docId.startsWith('rel-'))!;
      return { ...l, dense: noise, bm25: [rel, ...noise].map((h, i) => ({ ...h, score: 100 - i })) };
    });
    const r = chooseFusion(bm25Wins, qrels, 'ndcg@10', 4);
    expect(r.references['bm25 only']).toBeCloseTo(1, 9);
    expect(r.references['rrf k 60, dense 1 bm25 1 (untuned default)']).toBeLessThan(1);
    expect(r.chosen).toBeCloseTo(1, 9);
    expect(r.choice.weights).toEqual({ dense: 0, bm25: 1 }); // the first candidate to reach it
  });

  it('assigns folds by query id alone', () => {
    expect(foldOf('q17', 5)).toBe(foldOf('q17', 5));
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 1000; i++) counts[foldOf(`query-${i}`, 5)]++;
    for (const c of counts) expect(c).toBeGreaterThan(150);
  });
});
