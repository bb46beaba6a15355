// The one registration of every retrieval method and every per-shard search. A new method is a
// folder beside dense/, bm25/ and hybrid/ exporting its MethodPlugin (and its ShardBranch if it
// searches shards in a new way), listed here and named in shared/protocol/params.ts (Mode,
// Branch), which both tiers validate against.
import { bm25Branch, bm25Method } from './bm25/index.ts';
import { denseBranch, denseMethod } from './dense/index.ts';
import { hybridMethod } from './hybrid/index.ts';
import type { BranchName, MethodName, MethodPlugin, ShardBranch } from './types.ts';

export const METHODS: Readonly<Record<MethodName, MethodPlugin>> = { dense: denseMethod, bm25: bm25Method, hybrid: hybridMethod };

export const BRANCHES: Readonly<Record<BranchName, ShardBranch>> = { dense: denseBranch, bm25: bm25Branch };
