// Query-side fine-tuning (DensePhrases' train-query): only the query heads, against a fixed phrase index.
export { tuneQuery, TuneQueryError, type TuneQueryOptions, type TuneQueryQuestion, type TuneQueryResult } from './tune-query.ts';
export { questionPool, type PhraseRows, type PoolPhrase } from './pools.ts';
export { matVec, questionLoss, type TuneQuestion } from './query-heads.ts';
