export { tokenBoundaries, type TokenBoundaries } from './boundaries.ts';
export { decodePhraseFilter, encodePhraseFilter, filterScores, readPhraseFilter, sigmoid, type PhraseFilter } from './filter.ts';
export { decodePhraseHeads, encodePhraseHeads, HEAD_NAMES, NotAPhraseModelError, readPhraseHeads, type PhraseHeads } from './heads.ts';
export {
  applyHead,
  cutQuery,
  loadPhraseEncoder,
  meanFeatures,
  passagePhrases,
  queryVectors,
  type PassagePhrases,
  type PhraseEncoder,
  type PhraseQueryVectors,
} from './phrase-encoder.ts';
