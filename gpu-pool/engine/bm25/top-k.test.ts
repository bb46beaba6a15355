import { describe, expect, it } from 'vitest';
import { topK } from './top-k.ts';

/** Reference: sort everything. */
function naive(scores: Float32Array, candidates: number[], k: number) {
  return [...candidates].sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k);
}

describe('topK', () => {
  it('returns the best k by score, ties by lower ordinal', () => {
    const scores = new Float32Array([1, 3, 2, 3, 0.5, 3]);
    const r = topK(scores, new Uint32Array([0, 1, 2, 3, 4, 5]), 6, 4);
    expect([...r.ordinals]).toEqual([1, 3, 5, 2]);
    expect([...r.scores]).toEqual([3, 3, 3, 2]);
  });

  it('returns fewer than k when there are fewer candidates, and nothing for k = 0', () => {
    const scores = new Float32Array([0, 5, 7]);
    expect([...topK(scores, new Uint32Array([2, 1, 0]), 2, 10).ordinals]).toEqual([2, 1]); // only `count` candidates are read
    expect(topK(scores, new Uint32Array([2, 1]), 2, 0).ordinals.length).toBe(0);
  });

  it('agrees with a full sort on random data with many ties', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + Math.floor(rand() * 300);
      const scores = new Float32Array(n).map(() => Math.floor(rand() * 20));
      const candidates = Array.from({ length: n }, (_, i) => i).filter(() => rand() < 0.7);
      const k = 1 + Math.floor(rand() * 40);
      expect([...topK(scores, Uint32Array.from(candidates), candidates.length, k).ordinals]).toEqual(naive(scores, candidates, k));
    }
  });
});
