import { describe, expect, it } from 'vitest';
import { compareDocIds, compareRanked, topKInOrder, type DocIdResolver } from './order.ts';
import type { Hit } from './types.ts';

describe('compareDocIds (strcmp on UTF-8)', () => {
  it('orders by code point, shorter prefix first', () => {
    const ids = ['b', 'a', 'ab', '10', '9', ''];
    expect(ids.sort(compareDocIds)).toEqual(['', '10', '9', 'a', 'ab', 'b']);
  });

  it('puts characters above U+FFFF after U+E000-U+FFFF, as their UTF-8 bytes do', () => {
    const astral = '\u{1F600}'; // surrogate pair in UTF-16, F0 9F 98 80 in UTF-8
    const bmpHigh = '\uFF21'; // EF BC A1
    expect(astral < bmpHigh).toBe(true); // UTF-16 code unit order: the wrong way round
    expect(compareDocIds(astral, bmpHigh)).toBeGreaterThan(0);
    expect(Buffer.compare(Buffer.from(astral), Buffer.from(bmpHigh))).toBeGreaterThan(0);
  });
});

describe('compareRanked', () => {
  it('is trec_eval order: score descending, then document id descending', () => {
    const docs = [{ docId: 'a', score: 1 }, { docId: 'c', score: 2 }, { docId: 'b', score: 1 }];
    expect(docs.sort(compareRanked).map((d) => d.docId)).toEqual(['c', 'b', 'a']);
  });
});

describe('topKInOrder', () => {
  const ids = ['d0', 'd1', 'd2', 'd3', 'd4', 'd5'];
  const hit = (ordinal: number, score: number): Hit => ({ docId: '', score, shard: 0, ordinal });
  function recordingResolver(): { resolve: DocIdResolver; asked: number[] } {
    const asked: number[] = [];
    return {
      asked,
      resolve: async (hits) => {
        for (const h of hits) {
          asked.push(h.ordinal);
          h.docId = ids[h.ordinal];
        }
      },
    };
  }

  it('resolves ids only of tied hits, and cuts a tie at k by id', async () => {
    const { resolve, asked } = recordingResolver();
    // Scores: 5 (alone), then 3 tied across the cut at k = 3 (ordinals 1, 2, 4), then 1.
    const top = await topKInOrder([hit(0, 5), hit(1, 3), hit(2, 3), hit(3, 1), hit(4, 3)], 3, resolve);
    expect(top.map((h) => h.ordinal)).toEqual([0, 4, 2]);
    expect(asked.sort()).toEqual([1, 2, 4]);
  });

  it('asks nothing when no scores tie', async () => {
    const { resolve, asked } = recordingResolver();
    const top = await topKInOrder([hit(3, 0.2), hit(1, 0.9), hit(2, 0.5)], 2, resolve);
    expect(top.map((h) => h.ordinal)).toEqual([1, 2]);
    expect(asked).toEqual([]);
  });

  it('ignores ties entirely below the cut', async () => {
    const { resolve, asked } = recordingResolver();
    const top = await topKInOrder([hit(0, 2), hit(1, 1), hit(2, 1)], 1, resolve);
    expect(top.map((h) => h.ordinal)).toEqual([0]);
    expect(asked).toEqual([]);
  });
});
