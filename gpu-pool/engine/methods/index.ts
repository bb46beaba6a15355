// Retrieval methods: one read interface (RetrievalMethod), many implementations. The
// per-shard functions are what a pool shard host runs; the classes merge over local shards.
export { Bm25Method, checkBm25, searchBm25Shard } from './bm25/index.ts';
export { DenseMethod, checkShardDimension, defaultSearchParams, searchDenseShard } from './dense/index.ts';
export { DEFAULT_DEPTH, DEFAULT_RRF_K, HybridMethod, branchDepth, fusedScores } from './hybrid/index.ts';
export { MethodName, QueryParams, type BranchScore, type Hit, type MethodQuery, type RetrievalMethod, type VectorRetrievalMethod } from './types.ts';
export { compareDocIds, compareHits, compareRanked, mergeTopKInOrder, passageDocIds, topKInOrder, type DocIdResolver } from './order.ts';
