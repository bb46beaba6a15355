import { analyze } from './analyze.ts';
import { readPostings, writePostings } from './files.ts';
import { resolveParams, type Bm25Params } from './params.ts';
import type { Postings } from './postings.ts';
import { topK } from './top-k.ts';

export interface Bm25Hits {
  /** Document ordinals, best first (ties: lower ordinal first). */
  ordinals: Uint32Array;
  scores: Float32Array;
}

/**
 * Read path of a BM25 index. Scoring is Lucene's BM25Similarity (Lucene 8+, as Anserini and
 * pyserini use):
 *
 *   score(q, d) = Σ over query tokens t:  idf(t) · tf / (tf + k1 · (1 − b + b · dl / avgdl))
 *   idf(t)      = ln(1 + (N − df + 0.5) / (df + 0.5))
 *
 * without the classic (k1 + 1) numerator factor, which is the same for every document and so
 * does not change rankings. Scores therefore match pyserini's up to Lucene's lossy one-byte
 * document lengths (we keep exact lengths). A query token that occurs twice counts twice, as in
 * Anserini's bag-of-words query (term boosted by its count). N counts every document, empty ones
 * included; avgdl is total tokens / N.
 */
export class Bm25Index {
  readonly docCount: number;
  readonly termCount: number;
  readonly postingCount: number;
  /** Sum of all document lengths (analyzed tokens). */
  readonly totalLength: number;
  private readonly postings: Postings;
  private readonly termIds: Map<string, number>;
  private readonly avgDocLength: number;
  // Scratch reused by every search: search() is synchronous, so calls cannot interleave.
  private accumulator?: Float32Array;
  private touched?: Uint32Array;
  private norms?: { k1: number; b: number; values: Float32Array };

  /** Prefer Bm25Builder.build() or Bm25Index.read(); `postings` must be consistent (see files.ts checks). */
  constructor(postings: Postings) {
    this.postings = postings;
    this.docCount = postings.docLengths.length;
    this.termCount = postings.terms.length;
    this.postingCount = postings.docs.length;
    let total = 0;
    for (let d = 0; d < this.docCount; d++) total += postings.docLengths[d];
    this.totalLength = total;
    this.avgDocLength = this.docCount > 0 ? total / this.docCount : 0;
    this.termIds = new Map(postings.terms.map((t, i) => [t, i]));
  }

  static async read(dir: string): Promise<Bm25Index> {
    return new Bm25Index(await readPostings(dir));
  }

  /** Writes the bm25.* files into `dir`, fsynced; returns their names. */
  async write(dir: string): Promise<string[]> {
    return writePostings(dir, this.postings);
  }

  termStats(): { docCount: number; avgDocLength: number } {
    return { docCount: this.docCount, avgDocLength: this.avgDocLength };
  }

  /** Documents containing an analyzed term (0 if unknown): with termStats, what global IDF needs. */
  documentFrequency(term: string): number {
    const t = this.termIds.get(term);
    return t === undefined ? 0 : this.postings.offsets[t + 1] - this.postings.offsets[t];
  }

  /** Top `k` documents with a score above zero, i.e. sharing at least one term with the query. */
  search(query: string, k: number, params?: Partial<Bm25Params>): Bm25Hits {
    const { k1, b } = resolveParams(params);
    const { offsets, docs, tfs } = this.postings;
    const n = this.docCount;
    // Occurrences per known term: a repeated query word weighs more, as in Lucene's bag of words.
    const weights = new Map<number, number>();
    for (const token of analyze(query)) {
      const t = this.termIds.get(token);
      if (t !== undefined) weights.set(t, (weights.get(t) ?? 0) + 1);
    }
    if (weights.size === 0 || k <= 0 || n === 0) return { ordinals: new Uint32Array(0), scores: new Float32Array(0) };

    const acc = (this.accumulator ??= new Float32Array(n));
    const touched = (this.touched ??= new Uint32Array(n));
    const norm = this.normsFor(k1, b);
    let touchedCount = 0;
    for (const [t, count] of weights) {
      const start = offsets[t];
      const end = offsets[t + 1];
      const df = end - start;
      const weight = count * Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (let p = start; p < end; p++) {
        const d = docs[p];
        const tf = tfs[p];
        // Every term adds a positive amount, so zero means "not seen yet".
        if (acc[d] === 0) touched[touchedCount++] = d;
        acc[d] += (weight * tf) / (tf + norm[d]);
      }
    }
    const hits = topK(acc, touched, touchedCount, Math.floor(k));
    for (let i = 0; i < touchedCount; i++) acc[touched[i]] = 0;
    return hits;
  }

  /** k1 · (1 − b + b · dl / avgdl) per document, cached for the last (k1, b) asked for. */
  private normsFor(k1: number, b: number): Float32Array {
    if (this.norms && this.norms.k1 === k1 && this.norms.b === b) return this.norms.values;
    const lengths = this.postings.docLengths;
    const avg = this.avgDocLength > 0 ? this.avgDocLength : 1;
    const values = new Float32Array(this.docCount);
    for (let d = 0; d < this.docCount; d++) values[d] = k1 * (1 - b + (b * lengths[d]) / avg);
    this.norms = { k1, b, values };
    return values;
  }
}
