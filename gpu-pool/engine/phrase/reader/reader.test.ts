import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../colbert/train/index.ts';
import type { TokenBoundaries } from '../model/index.ts';
import { goldParagraphReader, topSpans } from './index.ts';

/** Tokens of one character each at offsets 0, 2, 4, … with the given start / end flags. */
function boundaries(canStart: number[], canEnd: number[]): TokenBoundaries {
  const n = canStart.length;
  return {
    charStart: Int32Array.from({ length: n }, (_, i) => 2 * i),
    charEnd: Int32Array.from({ length: n }, (_, i) => 2 * i + 1),
    canStart: Uint8Array.from(canStart),
    canEnd: Uint8Array.from(canEnd),
  };
}

describe('gold-paragraph reader', () => {
  it('scores start_i · q_start + end_j · q_end and returns the best phrase with its character span', () => {
    // d = 2; token 1 is the best start, token 3 the best end.
    const starts = Float32Array.from([0, 0, 1, 0, 0.5, 0, 0, 0, 0, 0]);
    const ends = Float32Array.from([0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
    const passage = { tokens: 5, starts, ends, boundaries: boundaries([1, 1, 1, 1, 1], [1, 1, 1, 1, 1]) };
    const [best] = goldParagraphReader(passage, { start: Float32Array.from([1, 0]), end: Float32Array.from([0, 1]) }, { maxPhraseTokens: 5 });
    expect(best).toEqual({ i: 1, j: 3, score: 3, charStart: 2, charEnd: 7 });
  });

  it('keeps to canStart / canEnd tokens and to maxPhraseTokens', () => {
    const s = [0, 5, 0, 0, 0];
    const e = [0, 0, 0, 0, 9];
    // Token 1 cannot start: the best start is elsewhere.
    expect(topSpans(s, e, boundaries([1, 0, 1, 1, 1], [1, 1, 1, 1, 1]), { maxPhraseTokens: 5 })[0]).toMatchObject({ i: 0, j: 4 });
    // Token 4 cannot end.
    expect(topSpans(s, e, boundaries([1, 1, 1, 1, 1], [1, 1, 1, 1, 0]), { maxPhraseTokens: 5 })[0]).toMatchObject({ i: 1, j: 1 });
    // At most 2 tokens: 1..4 is too long; the best is 1..2 (score 5) against 3..4 (score 9).
    expect(topSpans(s, e, boundaries([1, 1, 1, 1, 1], [1, 1, 1, 1, 1]), { maxPhraseTokens: 2 })[0]).toMatchObject({ i: 3, j: 4, score: 9 });
    expect(topSpans([1], [1], boundaries([0], [1]), { maxPhraseTokens: 3 })).toEqual([]);
  });

  it('gives top n best first, the top-1 path agreeing with the full ranking (ties: earlier, then shorter)', () => {
    const rnd = seededRandom(3);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rnd() * 30);
      // Few distinct values, so ties happen.
      const s = Array.from({ length: n }, () => Math.floor(rnd() * 4));
      const e = Array.from({ length: n }, () => Math.floor(rnd() * 4));
      const b = boundaries(Array.from({ length: n }, () => (rnd() < 0.7 ? 1 : 0)), Array.from({ length: n }, () => (rnd() < 0.7 ? 1 : 0)));
      const L = 1 + Math.floor(rnd() * 6);
      const all = topSpans(s, e, b, { maxPhraseTokens: L, topN: 10_000 });
      for (let k = 1; k < all.length; k++) {
        const [a, c] = [all[k - 1], all[k]];
        expect(a.score > c.score || (a.score === c.score && (a.i < c.i || (a.i === c.i && a.j < c.j)))).toBe(true);
      }
      for (const p of all) {
        expect(b.canStart[p.i] && b.canEnd[p.j]).toBeTruthy();
        expect(p.j - p.i).toBeGreaterThanOrEqual(0);
        expect(p.j - p.i).toBeLessThan(L);
      }
      expect(topSpans(s, e, b, { maxPhraseTokens: L })).toEqual(all.slice(0, 1));
      expect(topSpans(s, e, b, { maxPhraseTokens: L, topN: 3 })).toEqual(all.slice(0, 3));
    }
  });

  it('refuses scores that do not fit the tokens', () => {
    expect(() => topSpans([1, 2], [1], boundaries([1, 1], [1, 1]), { maxPhraseTokens: 2 })).toThrow(/2 start and 1 end scores for 2 tokens/);
    expect(() => goldParagraphReader({ tokens: 2, starts: new Float32Array(3), ends: new Float32Array(4), boundaries: boundaries([1, 1], [1, 1]) }, { start: new Float32Array(2), end: new Float32Array(2) }, { maxPhraseTokens: 2 })).toThrow(
      /3 floats are not 2 tokens × 2/,
    );
  });
});
