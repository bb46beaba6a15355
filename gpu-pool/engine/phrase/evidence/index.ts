// Phrase evidence: the lexical signals phrase search adds to the phrase model's scores, and their weights.
export { meanSentenceLength, PassageEvidence, type PhraseFeatures, type ReadPhrase } from './passage-evidence.ts';
export { PassageText, type TermCounts } from './passage-text.ts';
export { bm25OfCounts, bm25Score, queryTerms, type QueryTerms } from './query-terms.ts';
export { CONTEXT_TOKENS, DEFAULT_PHRASE_WEIGHTS, LINEAR_HEAD_WEIGHTS, resolveWeights, type PhraseWeights } from './weights.ts';
export { fitWeights, scoreWeights, WEIGHT_GRID, type FitQuestion, type FitResult, type FitScore, type FitTarget } from './fit-weights.ts';
