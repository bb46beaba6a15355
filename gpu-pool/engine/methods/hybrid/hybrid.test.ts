import { describe, expect, it } from 'vitest';
import type { Hit, MethodQuery } from '../types.ts';
import { fusedScores, normalise } from './index.ts';

const hits = (list: [string, number][]): Hit[] => list.map(([docId, score]) => ({ docId, score, shard: 0, ordinal: docId.charCodeAt(0) }));
const query = (params: MethodQuery['params']): MethodQuery => ({ id: 'q', text: 'x', k: 10, params });
const ranked = (fused: Hit[]) => [...fused].sort((a, b) => b.score - a.score || (a.docId < b.docId ? -1 : 1)).map((h) => [h.docId, Number(h.score.toFixed(6))]);

// dense: a .9, b .5, c .1; bm25: b 10, d 5, a 0.
const dense = hits([['a', 0.9], ['b', 0.5], ['c', 0.1]]);
const bm25 = hits([['b', 10], ['d', 5], ['a', 0]]);

describe('normalise', () => {
  it('min-max maps a list to [0, 1], floor 0', () => {
    expect(normalise([4, 2, 0], 'minmax')).toEqual({ scores: [1, 0.5, 0], floor: 0 });
  });
  it('z-score maps it to mean 0, deviation 1, floor the lowest', () => {
    const { scores, floor } = normalise([3, 2, 1], 'zscore');
    const sd = Math.sqrt(2 / 3);
    expect(scores.map((s) => Number(s.toFixed(9)))).toEqual([1 / sd, 0, -1 / sd].map((s) => Number(s.toFixed(9))));
    expect(floor).toBe(scores[2]);
  });
  it('equal scores (or one) count as present: 1, floor 0', () => {
    expect(normalise([7], 'zscore')).toEqual({ scores: [1], floor: 0 });
    expect(normalise([2, 2], 'minmax')).toEqual({ scores: [1, 1], floor: 0 });
    expect(normalise([], 'minmax')).toEqual({ scores: [], floor: 0 });
  });
});

describe('hybrid fusion', () => {
  it('rrf (the default): Σ w / (60 + rank)', () => {
    expect(ranked(fusedScores(query(undefined), dense, bm25))).toEqual([
      ['a', Number((1 / 61 + 1 / 63).toFixed(6))],
      ['b', Number((1 / 62 + 1 / 61).toFixed(6))],
      ['d', Number((1 / 62).toFixed(6))],
      ['c', Number((1 / 63).toFixed(6))],
    ].sort((x, y) => (y[1] as number) - (x[1] as number)));
  });

  it('minmax: the weighted sum of scores normalised per branch, a missing document at the floor', () => {
    // dense a 1, b .5, c 0; bm25 b 1, d .5, a 0.
    expect(ranked(fusedScores(query({ fusion: 'minmax' }), dense, bm25))).toEqual([['b', 1.5], ['a', 1], ['d', 0.5], ['c', 0]]);
    expect(ranked(fusedScores(query({ fusion: 'minmax', weights: { dense: 3, bm25: 1 } }), dense, bm25))).toEqual([['a', 3], ['b', 2.5], ['d', 0.5], ['c', 0]]);
  });

  it('zscore: the same over z-scores, shifted by each branch floor', () => {
    const sdDense = Math.sqrt(((0.4) ** 2 + 0 + 0.4 ** 2) / 3);
    const sdBm25 = Math.sqrt(((5) ** 2 + 0 + 5 ** 2) / 3);
    const got = Object.fromEntries(fusedScores(query({ fusion: 'zscore' }), dense, bm25).map((h) => [h.docId, h.score]));
    expect(got.a).toBeCloseTo(0.8 / sdDense, 9); // bm25 at its floor
    expect(got.b).toBeCloseTo(0.4 / sdDense + 10 / sdBm25, 9);
    expect(got.d).toBeCloseTo(5 / sdBm25, 9);
    expect(got.c).toBeCloseTo(0, 9);
  });

  it('leaves out what only a zero-weight branch returned, whatever the fusion', () => {
    for (const fusion of ['rrf', 'minmax', 'zscore'] as const) {
      const fused = fusedScores(query({ fusion, weights: { dense: 0 } }), dense, bm25);
      expect(ranked(fused).map(([id]) => id), fusion).toEqual(['b', 'd', 'a']);
    }
  });

  it('keeps each branch score and rank on the fused hit', () => {
    const b = fusedScores(query({ fusion: 'minmax' }), dense, bm25).find((h) => h.docId === 'b')!;
    expect(b.branches).toEqual({ dense: { score: 0.5, rank: 2 }, bm25: { score: 10, rank: 1 } });
  });
});
