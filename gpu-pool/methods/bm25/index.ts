import type { LoadedShard } from '../../shard/index.ts';
import { mergeTopK, type Hit, type MethodQuery, type RetrievalMethod } from '../types.ts';

/** BM25 over every shard's postings, merged by score. IDF is per shard (as Lucene per segment). */
export class Bm25Method implements RetrievalMethod {
  readonly name = 'bm25' as const;

  constructor(private readonly shards: LoadedShard[]) {
    const missing = shards.filter((s) => !s.bm25).map((s) => s.dir);
    if (missing.length > 0) throw new Error(`BM25 postings missing in ${missing.join(', ')}: build the index with --bm25`);
  }

  async search(queries: MethodQuery[]): Promise<Hit[][]> {
    return queries.map((q) => {
      const perShard = this.shards.map((shard, s) => {
        const { ordinals, scores } = shard.bm25!.search(q.text, q.k, { k1: q.params?.k1, b: q.params?.b });
        return Array.from(ordinals, (ordinal, i): Hit => ({ docId: '', score: scores[i], shard: s, ordinal }));
      });
      return mergeTopK(perShard, q.k);
    });
  }
}
