// How phrase search weighs its evidence. A phrase (start token i, end token j, in sentence s of
// passage p) scores
//
//   dense · (start_i · q_start + end_j · q_end)      the phrase model (DensePhrases' score)
//   + bm25 · BM25(p)                                 the passage is about the question
//   + sentence · BM25(s)                             the sentence is about the question
//   + context · C(i, j)                              question words stand right around the phrase
//   − overlap · O(i, j)                              the phrase repeats the question's words
//
// C and O are IDF-weighted fractions of the question's terms (0..1): C counts a term found within
// CONTEXT_TOKENS tokens before i or after j inside the sentence, O a term inside [i, j]. The lexical
// evidence is what the frozen encoder lacks (it places answers inside a passage far better than it
// tells relevant passages or sentences apart); the weights are fitted by `phrase fit-weights` on
// training questions, never on test ones.
import type { PhraseUnit } from '../../../../shared/protocol/index.ts';

export interface PhraseWeights {
  dense: number;
  bm25: number;
  sentence: number;
  context: number;
  overlap: number;
}

/** Tokens on each side of a phrase whose question words count as its context (~8 words). */
export const CONTEXT_TOKENS = 10;

/**
 * Defaults per unit: `phrase fit-weights` on SQuAD dev articles 20-23 (the phrase model's
 * validation articles; the test articles 24-47 never used), use-lite-tokens phrase model, depth 20,
 * maximising EM@1. Fitting for the answer-bearing sentence at rank 1 instead (`--unit sentence`)
 * moved it from 0.7905 to 0.7957 (4 of 783 questions, with EM@1 down to 0.20): within noise, so
 * every unit keeps the phrase weights.
 */
export const DEFAULT_PHRASE_WEIGHTS: Readonly<Record<PhraseUnit, Readonly<PhraseWeights>>> = Object.freeze({
  // 783 questions: EM@1 0.0868 → 0.2822, F1@1 0.1680 → 0.4287 (from dense 1, bm25 8, the rest 0).
  phrase: Object.freeze({ dense: 1, bm25: 4, sentence: 8, context: 8, overlap: 32 }),
  sentence: Object.freeze({ dense: 1, bm25: 4, sentence: 8, context: 8, overlap: 32 }),
  passage: Object.freeze({ dense: 1, bm25: 4, sentence: 8, context: 8, overlap: 32 }),
  document: Object.freeze({ dense: 1, bm25: 4, sentence: 8, context: 8, overlap: 32 }),
});

/**
 * The phrase model with passage retrieval and nothing else: the baseline `eval --qa --baselines`
 * reports as "linear heads" (passage BM25 at the weight fitted for it before lexical evidence existed).
 */
export const LINEAR_HEAD_WEIGHTS: Readonly<PhraseWeights> = Object.freeze({ dense: 1, bm25: 8, sentence: 0, context: 0, overlap: 0 });

/** The unit's defaults with any weight the query gives. */
export function resolveWeights(unit: PhraseUnit, given?: Partial<PhraseWeights>): PhraseWeights {
  const out = { ...DEFAULT_PHRASE_WEIGHTS[unit] };
  for (const k of Object.keys(out) as (keyof PhraseWeights)[]) if (given?.[k] !== undefined) out[k] = given[k]!;
  return out;
}
