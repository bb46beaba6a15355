import type { LoadedShard } from '../../shard/index.ts';
import { passageDocIds, topKInOrder } from '../order.ts';
import type { Hit, MethodPlugin, MethodQuery, ShardBranch } from '../types.ts';

/** BM25 over every shard's postings, merged by score. IDF is per shard (as Lucene per segment). */
export const bm25Method: MethodPlugin = {
  name: 'bm25',
  encodings: [],
  branches: ['bm25'],
  plan: (q) => [{ branch: 'bm25', k: q.k }],
  combine: async (_q, lists) => lists.bm25 ?? [],
};

export const bm25Branch: ShardBranch = {
  name: 'bm25',
  check: (shard) => checkBm25(shard),
  search: (shard, shardNo, queries) => searchBm25Shard(shard, shardNo, queries),
};

export function checkBm25(shard: LoadedShard): void {
  if (!shard.bm25) throw new Error(`BM25 postings missing in ${shard.dir}: build the index with --bm25`);
}

/** One shard's BM25 top-k per query, in trec_eval's order (order.ts): what a pool shard host answers. */
export async function searchBm25Shard(shard: LoadedShard, shardNo: number, queries: MethodQuery[]): Promise<Hit[][]> {
  checkBm25(shard);
  const docIds = passageDocIds(() => shard.passages);
  return Promise.all(
    queries.map((q) => {
      const params = { k1: q.params?.k1, b: q.params?.b };
      // The postings' top-k keeps the lower ordinal among equal scores: ask past the k-th place
      // until the scores tied there end, so that the cut can be made by document id.
      let want = q.k + 1;
      let found = shard.bm25!.search(q.text, want, params);
      while (found.scores.length === want && found.scores[want - 1] === found.scores[q.k - 1]) {
        want *= 2;
        found = shard.bm25!.search(q.text, want, params);
      }
      const hits = Array.from(found.ordinals, (ordinal, i): Hit => ({ docId: '', score: found.scores[i], shard: shardNo, ordinal }));
      return topKInOrder(hits, q.k, docIds);
    }),
  );
}
