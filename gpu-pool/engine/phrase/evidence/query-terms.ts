// The question as BM25 sees it: its analyzed terms, each with the shard's IDF, so that any span of
// text (a sentence, a passage read whole) can be scored with the same formula as the shard's
// postings, and question words can be found around a phrase.
import { analyze, type Bm25Index } from '../../bm25/index.ts';
import { resolveParams, type Bm25Params } from '../../bm25/params.ts';

export interface QueryTerms {
  /** Distinct analyzed terms. */
  terms: string[];
  /** Position of each term in `terms`. */
  index: Map<string, number>;
  /** Occurrences in the question (a repeated word weighs more, as in Bm25Index.search). */
  counts: Float64Array;
  /** Lucene's BM25 IDF from the shard's document frequencies. */
  idf: Float64Array;
  /** Σ idf over the distinct terms: the whole question's lexical weight. */
  idfSum: number;
  avgDocLength: number;
  bm25: Bm25Params;
}

export function queryTerms(question: string, bm25: Bm25Index, params?: Partial<Bm25Params>): QueryTerms {
  const { docCount: n, avgDocLength } = bm25.termStats();
  const index = new Map<string, number>();
  const counts: number[] = [];
  for (const t of analyze(question)) {
    const i = index.get(t);
    if (i === undefined) {
      index.set(t, counts.length);
      counts.push(1);
    } else counts[i]++;
  }
  const terms = [...index.keys()];
  const idf = Float64Array.from(terms, (t) => {
    const df = bm25.documentFrequency(t);
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  });
  return { terms, index, counts: Float64Array.from(counts), idf, idfSum: idf.reduce((a, b) => a + b, 0), avgDocLength, bm25: resolveParams(params) };
}

/**
 * BM25 of `text` against the question, as Bm25Index.search scores a document of the shard (same
 * IDF, k1, b); `avgLength` is the mean length of what is being scored (passages: the shard's).
 */
export function bm25Score(q: QueryTerms, text: string, avgLength = q.avgDocLength): number {
  const counts = new Map<string, number>();
  const terms = analyze(text);
  for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
  return bm25OfCounts(q, { counts, length: terms.length }, avgLength);
}

/** bm25Score of text already counted (PassageText). */
export function bm25OfCounts(q: QueryTerms, text: { counts: ReadonlyMap<string, number>; length: number }, avgLength = q.avgDocLength): number {
  const { k1, b } = q.bm25;
  const norm = k1 * (1 - b + (b * text.length) / Math.max(avgLength, 1e-9));
  let s = 0;
  for (let i = 0; i < q.terms.length; i++) {
    const tf = text.counts.get(q.terms[i]) ?? 0;
    if (tf > 0) s += (q.counts[i] * q.idf[i] * tf) / (tf + norm);
  }
  return s;
}
