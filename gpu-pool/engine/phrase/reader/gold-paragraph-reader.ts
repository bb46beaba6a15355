// The gold-paragraph reader: given one paragraph's phrase vectors and a question's start and end
// vectors, its best phrases. A phrase runs from a canStart token i to a canEnd token j, i ≤ j <
// i + maxPhraseTokens, and scores start_i · q_start + end_j · q_end (DensePhrases' phrase score).
// Pure functions over arrays: training's validation, the eval and the benchmark share them.
import type { TokenBoundaries } from '../model/index.ts';

/** One phrase of a paragraph. */
export interface ReaderPhrase {
  /** First token (canStart). */
  i: number;
  /** Last token (canEnd), i ≤ j < i + maxPhraseTokens. */
  j: number;
  /** start_i · q_start + end_j · q_end. */
  score: number;
  /** UTF-16 offsets into the paragraph: `text.slice(charStart, charEnd)` is the phrase. */
  charStart: number;
  charEnd: number;
}

export interface ReaderOptions {
  /** Longest phrase, in tokens (the model's phrase.maxPhraseTokens). */
  maxPhraseTokens: number;
  /** Phrases returned, best first. Default 1. */
  topN?: number;
}

/** What the reader needs of a paragraph: structurally a PassagePhrases. */
export interface ReaderPassage {
  tokens: number;
  /** tokens × d, row-major. */
  starts: Float32Array;
  ends: Float32Array;
  boundaries: TokenBoundaries;
}

/** What the reader needs of a question: structurally a PhraseQueryVectors. */
export interface ReaderQuery {
  start: Float32Array;
  end: Float32Array;
}

/** Row r of `m` (rows × q.length) · q, summed in float64 (the same figure on every run). */
function rowScores(m: Float32Array, rows: number, q: Float32Array): Float64Array {
  const d = q.length;
  if (m.length !== rows * d) throw new RangeError(`reader: ${m.length} floats are not ${rows} tokens × ${d}`);
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * d;
    for (let k = 0; k < d; k++) s += m[o + k] * q[k];
    out[r] = s;
  }
  return out;
}

/** The paragraph's `topN` best phrases for the question (fewer when it has fewer), best first. */
export function goldParagraphReader(passage: ReaderPassage, query: ReaderQuery, opts: ReaderOptions): ReaderPhrase[] {
  if (query.start.length !== query.end.length) throw new RangeError(`reader: query start is ${query.start.length}-d, end ${query.end.length}-d`);
  const startScores = rowScores(passage.starts, passage.tokens, query.start);
  const endScores = rowScores(passage.ends, passage.tokens, query.end);
  return topSpans(startScores, endScores, passage.boundaries, opts);
}

/** Phrase order: higher score, then earlier start, then shorter (a total order: the same top n everywhere). */
const better = (a: ReaderPhrase, b: ReaderPhrase) => b.score - a.score || a.i - b.i || a.j - b.j;

/**
 * The best phrases from per-token start and end scores (start_i · q_start, end_j · q_end), for
 * callers that score tokens their own way.
 */
export function topSpans(startScores: ArrayLike<number>, endScores: ArrayLike<number>, b: TokenBoundaries, opts: ReaderOptions): ReaderPhrase[] {
  const n = b.canStart.length;
  const L = opts.maxPhraseTokens;
  const topN = opts.topN ?? 1;
  if (!Number.isInteger(L) || L < 1) throw new RangeError(`reader: maxPhraseTokens must be a positive integer, got ${L}`);
  if (!Number.isInteger(topN) || topN < 1) throw new RangeError(`reader: topN must be a positive integer, got ${topN}`);
  if (startScores.length !== n || endScores.length !== n) throw new RangeError(`reader: ${startScores.length} start and ${endScores.length} end scores for ${n} tokens`);
  const phrase = (i: number, j: number): ReaderPhrase => ({ i, j, score: startScores[i] + endScores[j], charStart: b.charStart[i], charEnd: b.charEnd[j] });
  if (topN === 1) {
    // The common case without a candidate list: the best end in each start's window.
    let best: ReaderPhrase | undefined;
    for (let i = 0; i < n; i++) {
      if (!b.canStart[i]) continue;
      let bj = -1;
      for (let j = i; j < n && j < i + L; j++) if (b.canEnd[j] && (bj < 0 || endScores[j] > endScores[bj])) bj = j;
      if (bj < 0) continue;
      const p = phrase(i, bj);
      if (!best || better(p, best) < 0) best = p;
    }
    return best ? [best] : [];
  }
  const all: ReaderPhrase[] = [];
  for (let i = 0; i < n; i++) {
    if (!b.canStart[i]) continue;
    for (let j = i; j < n && j < i + L; j++) if (b.canEnd[j]) all.push(phrase(i, j));
  }
  return all.sort(better).slice(0, topN);
}
