// Retrieval methods: one read interface (RetrievalMethod), many implementations.
export { Bm25Method } from './bm25/index.ts';
export { DenseMethod, defaultSearchParams } from './dense/index.ts';
export { DEFAULT_DEPTH, DEFAULT_RRF_K, HybridMethod } from './hybrid/index.ts';
export { MethodName, QueryParams, compareHits, mergeTopK, type BranchScore, type Hit, type MethodQuery, type RetrievalMethod } from './types.ts';
