// The one registration of every retrieval method, per-shard search and re-ranker. A new method
// is a folder beside dense/, bm25/, hybrid/ and colbert/ exporting its MethodPlugin (its
// ShardBranch if it searches shards in a new way, its Reranker if it re-scores), listed here and
// named in shared/protocol/params.ts (Mode, Branch, RerankMethod), which both tiers validate against.
import { bm25Branch, bm25Method } from './bm25/index.ts';
import { colbertBranch, colbertMethod, colbertReranker } from './colbert/index.ts';
import { conversationalMethod } from './conversational/index.ts';
import { denseBranch, denseMethod } from './dense/index.ts';
import { hybridMethod } from './hybrid/index.ts';
import { phraseBranch, phraseMethod } from './phrase/index.ts';
import type { RerankMethod } from '../../../shared/protocol/index.ts';
import type { BranchName, MethodName, MethodPlugin, Reranker, ShardBranch } from './types.ts';

export const METHODS: Readonly<Record<MethodName, MethodPlugin>> = { dense: denseMethod, bm25: bm25Method, hybrid: hybridMethod, colbert: colbertMethod, phrase: phraseMethod, conversational: conversationalMethod };

export const BRANCHES: Readonly<Record<BranchName, ShardBranch>> = { dense: denseBranch, bm25: bm25Branch, colbert: colbertBranch, phrase: phraseBranch };

export const RERANKERS: Readonly<Record<RerankMethod, Reranker>> = { colbert: colbertReranker };
