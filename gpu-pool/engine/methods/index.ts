// Retrieval methods: one plug-in unit each (MethodPlugin: encodings, per-shard branches, how
// their lists combine), registered in registry.ts. The per-shard searches (ShardBranch) are what
// a pool shard host runs; ShardedMethod runs a method over the shards of this process.
export { bm25Branch, bm25Method, checkBm25, searchBm25Shard } from './bm25/index.ts';
export { QueryVectorError, checkShardDimension, defaultSearchParams, denseBranch, denseMethod, searchDenseShard } from './dense/index.ts';
export { DEFAULT_DEPTH, DEFAULT_RRF_K, branchDepth, describeFusion, fusedScores, fusionInUse, hybridMethod, withFusionDefault } from './hybrid/index.ts';
export { DEFAULT_COLBERT_CANDIDATES, NoTokenStoreError, colbertBranch, colbertMethod, colbertReranker } from './colbert/index.ts';
export { BRANCHES, METHODS, RERANKERS } from './registry.ts';
export { DEFAULT_RERANK_WEIGHT, firstStageDepth, ordinalsByShard, rerankedTopK } from './rerank.ts';
export { ShardedMethod, encodeQueries, encodingsOf, formedText, lateInteractionBudget, phraseBudget, sentenceBudget, type QueryEncoders } from './sharded-method.ts';
export { conversationalMethod } from './conversational/index.ts';
export {
  BranchName,
  MethodName,
  QueryParams,
  type BranchPlan,
  type BranchScore,
  type EncodedQuery,
  type EncodingRetrievalMethod,
  type Hit,
  type MethodPlugin,
  type MethodQuery,
  type QueryEncoding,
  type Reranker,
  type RetrievalMethod,
  type ShardBranch,
} from './types.ts';
export { compareDocIds, compareHits, compareRanked, mergeTopKInOrder, passageDocIds, topKInOrder, type DocIdResolver } from './order.ts';
