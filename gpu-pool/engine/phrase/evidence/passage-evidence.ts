// One passage read whole for one question: the phrase model's start / end scores of every token
// (from the phrase store) beside the lexical evidence of weights.ts, and the best phrase of each
// start under given weights.
import { CAN_END, CAN_START, type PassageTokens, type PhraseCandidate } from '../store/index.ts';
import type { Span } from '../text/index.ts';
import type { PassageText } from './passage-text.ts';
import { bm25OfCounts, type QueryTerms } from './query-terms.ts';
import { CONTEXT_TOKENS, type PhraseWeights } from './weights.ts';

/** The lexical evidence of one phrase, as weights.ts defines it. */
export interface PhraseFeatures {
  dense: number;
  bm25: number;
  sentence: number;
  context: number;
  overlap: number;
}

/** A phrase of a passage read whole: a PhraseCandidate (its score the weighted evidence), with its sentence and evidence. */
export interface ReadPhrase extends PhraseCandidate {
  /** The sentence the phrase starts in. */
  sentence: Span;
  features: PhraseFeatures;
}

export class PassageEvidence {
  readonly sentences: Span[];
  /** Sentence of each token (the one its first character is in; the nearest before it otherwise). */
  readonly sentenceOf: Int32Array;
  /** First token of each sentence, and one past its last. */
  readonly sentenceTokens: Int32Array;
  readonly passageBm25: number;
  readonly sentenceBm25: Float64Array;
  /** Per question term (rows of n): the last token at or before t holding it (-1), the first at or after t (n). */
  readonly #last: Int32Array;
  readonly #next: Int32Array;
  readonly #weightOfTerm: Float64Array;

  constructor(
    readonly ordinal: number,
    readonly tokens: PassageTokens,
    readonly passage: PassageText,
    readonly query: QueryTerms,
    avgSentenceLength: number,
  ) {
    const n = tokens.charStart.length;
    this.sentences = passage.sentences;
    this.sentenceOf = new Int32Array(n);
    const S = this.sentences.length;
    this.sentenceTokens = new Int32Array(S + 1).fill(n);
    let s = 0;
    for (let t = 0; t < n; t++) {
      while (s + 1 < S && this.sentences[s + 1].start <= tokens.charStart[t]) s++;
      this.sentenceOf[t] = s;
    }
    for (let t = n - 1; t >= 0; t--) this.sentenceTokens[this.sentenceOf[t]] = t;
    for (let k = S - 1; k >= 0; k--) if (this.sentenceTokens[k] > this.sentenceTokens[k + 1]) this.sentenceTokens[k] = this.sentenceTokens[k + 1];
    this.passageBm25 = bm25OfCounts(query, passage.passage);
    this.sentenceBm25 = Float64Array.from(passage.sentenceTerms, (x) => bm25OfCounts(query, x, avgSentenceLength));

    // The question term each token's word holds (a word is analyzed whole; its tokens share it).
    const Q = query.terms.length;
    const termOf = new Int32Array(n).fill(-1);
    const { words, wordTerms } = passage;
    let w = 0;
    for (let t = 0; t < n && Q > 0; t++) {
      const c = tokens.charStart[t];
      while (w < words.length && words[w].end <= c) w++;
      if (w < words.length && words[w].start <= c) {
        for (const term of wordTerms[w]) {
          const i = query.index.get(term);
          if (i !== undefined) {
            termOf[t] = i;
            break;
          }
        }
      }
    }
    this.#last = new Int32Array(Q * n);
    this.#next = new Int32Array(Q * n);
    for (let q = 0; q < Q; q++) {
      let last = -1;
      for (let t = 0; t < n; t++) {
        if (termOf[t] === q) last = t;
        this.#last[q * n + t] = last;
      }
      let next = n;
      for (let t = n - 1; t >= 0; t--) {
        if (termOf[t] === q) next = t;
        this.#next[q * n + t] = next;
      }
    }
    this.#weightOfTerm = Float64Array.from(query.idf, (x) => (query.idfSum > 0 ? x / query.idfSum : 0));
  }

  get text(): string {
    return this.passage.text;
  }

  get length(): number {
    return this.tokens.charStart.length;
  }

  /** Question terms (IDF-weighted fraction) within CONTEXT_TOKENS before token i or after token j, inside i's sentence. */
  context(i: number, j: number): number {
    const n = this.length;
    const s = this.sentenceOf[i];
    const lo = Math.max(this.sentenceTokens[s], i - CONTEXT_TOKENS);
    const hi = Math.min(this.sentenceTokens[s + 1] - 1, j + CONTEXT_TOKENS);
    let c = 0;
    for (let q = 0; q < this.#weightOfTerm.length; q++) {
      const o = q * n;
      if ((i > 0 && this.#last[o + i - 1] >= lo) || (j + 1 < n && this.#next[o + j + 1] <= hi)) c += this.#weightOfTerm[q];
    }
    return c;
  }

  /** Question terms (IDF-weighted fraction) inside tokens i..j. */
  overlap(i: number, j: number): number {
    const n = this.length;
    let c = 0;
    for (let q = 0; q < this.#weightOfTerm.length; q++) if (this.#next[q * n + i] <= j) c += this.#weightOfTerm[q];
    return c;
  }

  /** Features of the phrase of tokens i..j. */
  features(i: number, j: number): PhraseFeatures {
    return {
      dense: this.tokens.startScores[i] + this.tokens.endScores[j],
      bm25: this.passageBm25,
      sentence: this.sentenceBm25[this.sentenceOf[i]],
      context: this.context(i, j),
      overlap: this.overlap(i, j),
    };
  }

  /** The best phrase of each start token under `w` (its best end within maxPhraseTokens), in token order. */
  bestPhrases(w: PhraseWeights): ReadPhrase[] {
    const out: ReadPhrase[] = [];
    this.#eachStart(w, (i, j, score) => out.push(this.phrase(i, j, score)));
    return out;
  }

  /** The passage's single best phrase under `w` (first in token order among equals), without building phrase objects. */
  best(w: PhraseWeights): { i: number; j: number; score: number } | undefined {
    let top: { i: number; j: number; score: number } | undefined;
    this.#eachStart(w, (i, j, score) => {
      if (!top || score > top.score) top = { i, j, score };
    });
    return top;
  }

  /**
   * C(i, j) and O(i, j) of every pair a phrase may be (i a start, j < i + maxPhraseTokens), at
   * [i · maxPhraseTokens + j − i]: computed once, on first use, so that scoring the passage
   * under many weights (fit-weights) costs one multiply-add per pair.
   */
  #pairs(): { context: Float32Array; overlap: Float32Array } {
    if (this.#pairCache) return this.#pairCache;
    const { flags, maxPhraseTokens: M } = this.tokens;
    const n = this.length;
    const context = new Float32Array(n * M);
    const overlap = new Float32Array(n * M);
    for (let i = 0; i < n; i++) {
      if (!(flags[i] & CAN_START)) continue;
      for (let j = i; j < Math.min(n, i + M); j++) {
        if (!(flags[j] & CAN_END)) continue;
        context[i * M + j - i] = this.context(i, j);
        overlap[i * M + j - i] = this.overlap(i, j);
      }
    }
    return (this.#pairCache = { context, overlap });
  }

  #pairCache: { context: Float32Array; overlap: Float32Array } | undefined;

  #eachStart(w: PhraseWeights, visit: (i: number, j: number, score: number) => void): void {
    const { startScores, endScores, flags, maxPhraseTokens: M } = this.tokens;
    const n = this.length;
    const lexical = w.context !== 0 || w.overlap !== 0;
    const pairs = lexical ? this.#pairs() : undefined;
    for (let i = 0; i < n; i++) {
      if (!(flags[i] & CAN_START)) continue;
      const fixed = w.dense * startScores[i] + w.bm25 * this.passageBm25 + w.sentence * this.sentenceBm25[this.sentenceOf[i]];
      let best = -1;
      let bestScore = -Infinity;
      const last = Math.min(n, i + M) - 1;
      for (let j = i; j <= last; j++) {
        if (!(flags[j] & CAN_END)) continue;
        let v = w.dense * endScores[j];
        if (pairs) v += w.context * pairs.context[i * M + j - i] - w.overlap * pairs.overlap[i * M + j - i];
        if (v > bestScore) {
          bestScore = v;
          best = j;
        }
      }
      if (best >= 0) visit(i, best, fixed + bestScore);
    }
  }

  phrase(i: number, j: number, score: number): ReadPhrase {
    const { startScores, endScores, charStart, charEnd, from } = this.tokens;
    return {
      ordinal: this.ordinal,
      startRow: from + i,
      endRow: from + j,
      charStart: charStart[i],
      charEnd: charEnd[j],
      score,
      startScore: startScores[i],
      endScore: endScores[j],
      sentence: this.sentences[this.sentenceOf[i]] ?? { start: 0, end: this.text.length },
      features: this.features(i, j),
    };
  }
}

/** Mean sentence length (analyzed terms) to normalise sentence BM25 with: the shard's mean passage length over the read passages' mean sentence count. */
export function meanSentenceLength(avgDocLength: number, sentencesPerPassage: number): number {
  return avgDocLength / Math.max(1, sentencesPerPassage);
}
