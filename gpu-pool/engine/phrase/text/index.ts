// Text utilities for phrase retrieval: SQuAD's answer normalisation and EM/F1, and the sentence
// and word spans that candidate phrases and their evidence are cut from. Offsets are UTF-16.
export { normalizeAnswer, exactMatch, f1Score } from './answer-normalization.ts';
export { splitSentences, type Span } from './sentences.ts';
export { wordSpans } from './words.ts';
