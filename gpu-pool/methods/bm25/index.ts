import type { LoadedShard } from '../../shard/index.ts';
import { mergeTopK, type Hit, type MethodQuery, type RetrievalMethod } from '../types.ts';

/** BM25 over every shard's postings, merged by score. IDF is per shard (as Lucene per segment). */
export class Bm25Method implements RetrievalMethod {
  readonly name = 'bm25' as const;

  constructor(private readonly shards: LoadedShard[]) {
    for (const shard of shards) checkBm25(shard);
  }

  async search(queries: MethodQuery[]): Promise<Hit[][]> {
    const perShard = this.shards.map((shard, s) => searchBm25Shard(shard, s, queries));
    return queries.map((q, i) => mergeTopK(perShard.map((lists) => lists[i]), q.k));
  }
}

export function checkBm25(shard: LoadedShard): void {
  if (!shard.bm25) throw new Error(`BM25 postings missing in ${shard.dir}: build the index with --bm25`);
}

/** One shard's BM25 top-k per query: what a pool shard host answers. */
export function searchBm25Shard(shard: LoadedShard, shardNo: number, queries: MethodQuery[]): Hit[][] {
  checkBm25(shard);
  return queries.map((q) => {
    const { ordinals, scores } = shard.bm25!.search(q.text, q.k, { k1: q.params?.k1, b: q.params?.b });
    return Array.from(ordinals, (ordinal, i): Hit => ({ docId: '', score: scores[i], shard: shardNo, ordinal }));
  });
}
