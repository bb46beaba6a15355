import { describe, expect, it } from 'vitest';
import { Bm25Builder, Bm25Index } from './index.ts';

// Three documents whose tokens survive analysis unchanged (no stop words, Porter leaves them):
//   0: cat cat dog          (length 3)
//   1: dog                  (length 1)
//   2: fish bird fish bird  (length 4)
// N = 3, avgdl = 8 / 3. With k1 = 0.9, b = 0.4:
//   norm(d) = k1 · (1 − b + b · dl / avgdl):  norm0 = 0.9 · (0.6 + 0.4 · 1.125) = 0.945
//                                            norm1 = 0.9 · (0.6 + 0.4 · 0.375) = 0.675
//   idf(cat) = ln(1 + (3 − 1 + 0.5) / (1 + 0.5)) = ln(8/3) ≈ 0.980829  (df 1)
//   idf(dog) = ln(1 + (3 − 2 + 0.5) / (2 + 0.5)) = ln(1.6) ≈ 0.470004  (df 2)
//   "cat":     d0 = 0.980829 · 2 / (2 + 0.945)                    ≈ 0.666098
//   "dog cat": d0 = 0.666098 + 0.470004 · 1 / (1 + 0.945)         ≈ 0.907745
//              d1 = 0.470004 · 1 / (1 + 0.675)                    ≈ 0.280599
function tiny(): Bm25Index {
  const b = new Bm25Builder();
  ['cat cat dog', 'dog', 'fish bird fish bird'].forEach((text, i) => b.add(i, text));
  return b.build();
}

describe('Bm25Index.search', () => {
  it('matches hand-computed Lucene BM25 scores', () => {
    const index = tiny();
    const cat = index.search('cat', 10);
    expect([...cat.ordinals]).toEqual([0]);
    expect(cat.scores[0]).toBeCloseTo(0.666098, 5);

    const both = index.search('dog cat', 10);
    expect([...both.ordinals]).toEqual([0, 1]); // document 2 shares no term: not returned
    expect(both.scores[0]).toBeCloseTo(0.907745, 5);
    expect(both.scores[1]).toBeCloseTo(0.280599, 5);
  });

  it('counts a repeated query word once per occurrence', () => {
    const index = tiny();
    expect(index.search('cat cat', 10).scores[0]).toBeCloseTo(2 * 0.666098, 5);
  });

  it('applies k1 and b from the call', () => {
    // b = 0: no length normalisation, norm = k1 = 1.2 for every document.
    const r = tiny().search('dog', 10, { k1: 1.2, b: 0 });
    expect([...r.ordinals]).toEqual([0, 1]); // equal scores: lower ordinal first
    expect(r.scores[0]).toBeCloseTo(Math.log(1.6) / 2.2, 6);
    expect(r.scores[1]).toBe(r.scores[0]);
    expect(() => tiny().search('dog', 10, { b: 2 })).toThrow(/invalid BM25 parameters/);
  });

  it('analyzes the query like the documents and ignores unknown words', () => {
    const index = tiny();
    expect([...index.search('The CATS!', 10).ordinals]).toEqual([0]);
    expect(index.search('unicorn', 10).ordinals.length).toBe(0);
    expect(index.search('', 10).ordinals.length).toBe(0);
  });

  it('returns at most k results and leaves no state behind between searches', () => {
    const index = tiny();
    // "dog": the one-word document 1 (≈ 0.280599) beats document 0 (≈ 0.241647, longer).
    expect([...index.search('dog', 1).ordinals]).toEqual([1]);
    expect([...index.search('dog', 2).ordinals]).toEqual([1, 0]);
    const first = index.search('dog cat', 10);
    const again = index.search('dog cat', 10);
    expect([...again.scores]).toEqual([...first.scores]);
  });
});

describe('Bm25Builder and statistics', () => {
  it('reports counts, average length and document frequencies', () => {
    const index = tiny();
    expect(index.docCount).toBe(3);
    expect(index.termCount).toBe(4);
    expect(index.termStats()).toEqual({ docCount: 3, avgDocLength: 8 / 3 });
    expect(index.documentFrequency('dog')).toBe(2);
    expect(index.documentFrequency('unicorn')).toBe(0);
  });

  it('counts empty documents in N but never returns them', () => {
    const b = new Bm25Builder();
    b.add(0, 'cat');
    b.add(1, '');
    b.add(2, 'the of and');
    const index = b.build();
    expect(index.termStats()).toEqual({ docCount: 3, avgDocLength: 1 / 3 });
    expect([...index.search('cat', 10).ordinals]).toEqual([0]);
  });

  it('requires dense ordinals in order, and is single-use', () => {
    const b = new Bm25Builder();
    b.add(0, 'cat');
    expect(() => b.add(2, 'dog')).toThrow(/expected ordinal 1/);
    b.build();
    expect(() => b.add(1, 'dog')).toThrow(/after build/);
  });
});
