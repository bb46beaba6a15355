// What query-side fine-tuning trains against: for each question, the phrases phrase search reads
// for it (its BM25 passages read whole, every start's best phrase under the evidence weights), the
// `size` best of them, plus every phrase of those passages whose text is an answer. Each keeps the
// part of its score the query heads do not change (BM25, sentence and lexical evidence), so the
// heads learn to rank phrases the way search will rank them.
import type { LoadedShard } from '../../shard/index.ts';
import { passageText, sentencesPerPassage } from '../../methods/phrase/index.ts';
import { meanSentenceLength, PassageEvidence, queryTerms, type PhraseWeights } from '../evidence/index.ts';
import type { PhraseQueryVectors } from '../model/index.ts';
import { CAN_END, CAN_START, type PhraseStore } from '../store/index.ts';
import { normalizeAnswer } from '../text/index.ts';

/** The part of a phrase store the loss reads: start and end rows, dotted and accumulated. */
export type PhraseRows = Pick<PhraseStore, 'dir' | 'dotStart' | 'dotEnd' | 'addStart' | 'addEnd'>;

export interface PoolPhrase {
  store: PhraseRows;
  startRow: number;
  endRow: number;
  /** Score less the phrase model's part: bm25·BM25(p) + sentence·BM25(s) + context·C − overlap·O. */
  fixed: number;
  /** Its text after SQuAD normalisation equals an answer's. */
  positive: boolean;
  /** Normalised text (what duplicates are merged on when ranking). */
  key: string;
}

/** Every occurrence (case-insensitive) of each answer in the passage that is a whole phrase: token pairs (i, j). */
function answerSpans(e: PassageEvidence, answers: readonly string[]): [number, number][] {
  const { charStart, charEnd, flags, maxPhraseTokens } = e.tokens;
  const lower = e.text.toLowerCase();
  const out: [number, number][] = [];
  for (const answer of answers) {
    const a = answer.trim().toLowerCase();
    if (!a) continue;
    for (let at = lower.indexOf(a); at >= 0; at = lower.indexOf(a, at + 1)) {
      const i = charStart.indexOf(at);
      if (i < 0 || !(flags[i] & CAN_START)) continue;
      for (let j = i; j < Math.min(charStart.length, i + maxPhraseTokens); j++) {
        if (charEnd[j] === at + a.length) {
          if (flags[j] & CAN_END) out.push([i, j]);
          break;
        }
        if (charEnd[j] > at + a.length) break;
      }
    }
  }
  return out;
}

export async function questionPool(o: {
  shards: readonly LoadedShard[];
  question: string;
  answers: readonly string[];
  vectors: PhraseQueryVectors;
  weights: PhraseWeights;
  depth: number;
  size: number;
}): Promise<PoolPhrase[]> {
  const golds = new Set(o.answers.map(normalizeAnswer));
  const w = o.weights;
  const scored: { p: PoolPhrase; score: number }[] = [];
  const seen = new Set<string>();
  const add = (e: PassageEvidence, store: PhraseStore, i: number, j: number, score: number) => {
    const id = `${store.dir}\u0000${e.tokens.from + i}\u0000${e.tokens.from + j}`;
    if (seen.has(id)) return;
    seen.add(id);
    const f = e.features(i, j);
    const key = normalizeAnswer(e.text.slice(e.tokens.charStart[i], e.tokens.charEnd[j]));
    scored.push({ p: { store, startRow: e.tokens.from + i, endRow: e.tokens.from + j, fixed: w.bm25 * f.bm25 + w.sentence * f.sentence + w.context * f.context - w.overlap * f.overlap, positive: golds.has(key), key }, score });
  };
  const answers: { e: PassageEvidence; store: PhraseStore; i: number; j: number }[] = [];
  for (const shard of o.shards) {
    const bm25 = shard.bm25!;
    const store = shard.phrases!;
    const terms = queryTerms(o.question, bm25);
    const sentenceLength = meanSentenceLength(bm25.termStats().avgDocLength, await sentencesPerPassage(shard));
    for (const ordinal of bm25.search(o.question, Math.min(o.depth, bm25.docCount)).ordinals) {
      const e = new PassageEvidence(ordinal, store.passageTokens(o.vectors, ordinal), await passageText(shard, ordinal), terms, sentenceLength);
      for (const p of e.bestPhrases(w)) add(e, store, p.startRow - e.tokens.from, p.endRow - e.tokens.from, p.score);
      for (const [i, j] of answerSpans(e, o.answers)) answers.push({ e, store, i, j });
    }
  }
  scored.sort((a, b) => b.score - a.score);
  const pool = scored.slice(0, o.size);
  seen.clear();
  for (const { p } of pool) seen.add(`${p.store.dir}\u0000${p.startRow}\u0000${p.endRow}`);
  const before = scored.length;
  for (const { e, store, i, j } of answers) add(e, store, i, j, -Infinity);
  return [...pool, ...scored.slice(before)].map((x) => x.p);
}
