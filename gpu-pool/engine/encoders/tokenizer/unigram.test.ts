import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USE_LITE_DIR } from '../../../../test/fixtures.ts';
import { createTokenizer, type TokenizerJson } from './index.ts';

const json = JSON.parse(readFileSync(join(USE_LITE_DIR, 'tokenizer.json'), 'utf8')) as TokenizerJson;
const tok = createTokenizer(json);
const vocab = (json.model as { vocab: [string, number][] }).vocab;
const score = new Map(vocab.map(([p, s], i) => [p, { s, i }]));
const pieces = (text: string) => Array.from(tok.encode(text), (id) => tok.idToToken(id));
const normalized = (text: string) => (text ? '\u2581' + text.normalize('NFKC').replaceAll(' ', '\u2581') : '');

/** Best total score over ALL segmentations, by plain recursion (independent of the Viterbi code). */
function bruteForceBest(s: string[]): number {
  const minScore = Math.min(...vocab.map(([, v]) => v));
  const memo = new Map<number, number>();
  const best = (i: number): number => {
    if (i === s.length) return 0;
    if (memo.has(i)) return memo.get(i)!;
    let b = -Infinity;
    let single = false;
    for (let j = i + 1; j <= s.length; j++) {
      const p = score.get(s.slice(i, j).join(''));
      if (p) {
        if (j === i + 1) single = true;
        b = Math.max(b, p.s + best(j));
      }
    }
    if (!single) b = Math.max(b, minScore - 10 + best(i + 1));
    memo.set(i, b);
    return b;
  };
  return best(0);
}

describe('Unigram tokenizer (use-lite tokenizer.json)', () => {
  it('has no special tokens and 8000 pieces', () => {
    expect(tok.type).toBe('Unigram');
    expect(tok.vocabSize).toBe(8000);
    expect(tok.unkId).toBe(0);
    expect(tok.specials.prefix.length + tok.specials.suffix.length).toBe(0);
    expect(Array.from(tok.addSpecialTokens([5, 6]))).toEqual([5, 6]);
  });

  it('segments as checked by hand against the piece scores', () => {
    // ▁smartphone (-10.79) beats ▁smart + phone (-9.73 - 9.98).
    expect(pieces('smartphone')).toEqual(['▁smartphone']);
    // No ▁mat piece: ▁ma + t.
    expect(pieces('The cat sat on the mat.')).toEqual(['▁The', '▁cat', '▁sat', '▁on', '▁the', '▁ma', 't', '.']);
    // ":30" has score +30 (a quirk of the source vocab, kept).
    expect(pieces('at 10:30')).toEqual(['▁at', '▁10', ':30']);
    expect(score.get(':30')?.s).toBe(30);
  });

  it('normalises with NFKC, spaces → ▁, ▁ prepended to non-empty input', () => {
    expect(tok.encode('')).toEqual(new Int32Array(0));
    expect(pieces(' ')).toEqual(['▁', '▁']);
    expect(Array.from(tok.encode('\ufb01ne'))).toEqual(Array.from(tok.encode('fine'))); // ﬁ ligature
    expect(Array.from(tok.encode('ｈｅｌｌｏ'))).toEqual(Array.from(tok.encode('hello'))); // full-width
  });

  it('maps unknown characters to id 0, merging consecutive ones', () => {
    const ids = Array.from(tok.encode('a ☃☃☃ b'));
    expect(ids.filter((i) => i === 0)).toHaveLength(1);
    expect(Array.from(tok.encode('☃ ☃')).filter((i) => i === 0)).toHaveLength(2);
    expect(pieces('🙂')).toEqual(['▁', '�']); // astral characters are one character
  });

  it('pieces concatenate back to the normalised text', () => {
    for (const t of ['Hello world', 'Neural search with quantized indexes!', 'Zürich café, résumé', 'x1=3.5e-7; y_2 <= 40%']) {
      expect(pieces(t).join('')).toBe(normalized(t));
    }
  });

  it('finds the best-scoring segmentation (checked by exhaustive search)', () => {
    const texts = ['IEEE', 'tokenization', 'antidisestablishment', 'The mat.', 'café ☃ ok', 'BRCA1 gene', 'xyzzy plugh', 'Ça va?'];
    for (const t of texts) {
      const s = Array.from(normalized(t));
      const ids = Array.from(tok.encode(t));
      // Score of our path: unknown nodes count min-10 per character (fused runs: per character).
      let got = 0;
      let consumed = 0;
      for (const id of ids) {
        const p = tok.idToToken(id)!;
        if (id === 0 && !s.slice(consumed, consumed + 1).join('').startsWith('\ufffd')) {
          // a fused unknown run: advance over characters without a single-char piece
          let n = 0;
          while (consumed + n < s.length && !score.has(s[consumed + n])) n++;
          got += n * (Math.min(...vocab.map(([, v]) => v)) - 10);
          consumed += n;
        } else {
          got += score.get(p)!.s;
          consumed += Array.from(p).length;
        }
      }
      expect(consumed).toBe(s.length);
      expect(got).toBeCloseTo(bruteForceBest(s), 9);
    }
  });

  it('is fast enough for corpus encoding', () => {
    const text = 'Quantized dense retrieval keeps most of the quality of exact search. '.repeat(40);
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) tok.encode(text);
    expect((performance.now() - t0) / 50).toBeLessThan(20); // ms per ~600-token document
  });
});
