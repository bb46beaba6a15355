// Late interaction (ColBERT): candidates from the query tokens' nearest centroids (PLAID), then
// exact MaxSim over the candidates' decompressed tokens, per shard; shards merged by score.
// The same MaxSim re-scores any first stage's hits (colbertReranker).
import type { TokenMatrix } from '../../encoders/index.ts';
import type { LoadedShard } from '../../shard/index.ts';
import { passageDocIds, topKInOrder } from '../order.ts';
import type { EncodedQuery, Hit, MethodPlugin, Reranker, ShardBranch } from '../types.ts';

/** Passages re-scored exactly per shard (PLAID's stage-2 size for k = 10 is 256). */
export const DEFAULT_COLBERT_CANDIDATES = 256;

export class NoTokenStoreError extends Error {
  constructor(dir: string, methods: readonly string[]) {
    super(`${dir} holds no ColBERT token store (it was built for ${methods.join(' + ')}): mode colbert and rerank colbert need an index built with --method colbert`);
    this.name = 'NoTokenStoreError';
  }
}

function tokenStoreOf(shard: LoadedShard) {
  if (!shard.tokens) throw new NoTokenStoreError(shard.dir, shard.manifest.methods);
  return shard.tokens;
}

function queryTokens(q: EncodedQuery): TokenMatrix {
  if (!q.tokens) throw new Error(`query ${q.id}: late interaction needs the query's token vectors`);
  return q.tokens;
}

export const colbertMethod: MethodPlugin = {
  name: 'colbert',
  encodings: ['tokens'],
  branches: ['colbert'],
  plan: (q) => [{ branch: 'colbert', k: q.k }],
  combine: async (_q, lists) => lists.colbert ?? [],
};

export const colbertBranch: ShardBranch = {
  name: 'colbert',
  check: (shard) => void tokenStoreOf(shard),
  search: async (shard, shardNo, queries) => {
    const store = tokenStoreOf(shard);
    const docIds = passageDocIds(() => shard.passages);
    return Promise.all(
      queries.map((q) => {
        const tokens = queryTokens(q);
        const limit = Math.max(q.k, q.params?.candidates ?? DEFAULT_COLBERT_CANDIDATES);
        const ordinals = store.candidates(tokens, { nprobe: q.params?.nprobe, limit });
        const scores = store.maxSim(tokens, ordinals);
        const hits = Array.from(ordinals, (ordinal, i): Hit => ({ docId: '', score: scores[i], shard: shardNo, ordinal }));
        return topKInOrder(hits, q.k, docIds);
      }),
    );
  },
};

export const colbertReranker: Reranker = {
  name: 'colbert',
  encodings: ['tokens'],
  check: (shard) => void tokenStoreOf(shard),
  score: (shard, q, ordinals) => tokenStoreOf(shard).maxSim(queryTokens(q), ordinals),
};
