// BM25 over compact typed-array postings: write path (Bm25Builder), read path (Bm25Index),
// persisted as bm25.* files in a shard directory.
export { analyze, ANALYZER_ID, ENGLISH_STOP_WORDS } from './analyze.ts';
export { Bm25Builder } from './builder.ts';
export { Bm25Index, type Bm25Hits } from './bm25-index.ts';
export { Bm25FormatError, BM25_FILES, BM25_FORMAT, BM25_VERSION } from './files.ts';
export { Bm25ParamsSchema, DEFAULT_BM25_PARAMS, type Bm25Params } from './params.ts';
