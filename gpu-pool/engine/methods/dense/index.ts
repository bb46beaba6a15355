import type { Encoder } from '../../encoders/index.ts';
import type { LoadedShard } from '../../shard/index.ts';
import { mergeTopKInOrder, passageDocIds, topKInOrder, type DocIdResolver } from '../order.ts';
import type { Hit, MethodQuery, VectorRetrievalMethod } from '../types.ts';
import { defaultSearchParams } from './default-params.ts';

export { DEFAULT_HNSW_EF_SEARCH, DEFAULT_NPROBE_SHARE, defaultSearchParams } from './default-params.ts';

const DEFAULT_WINDOW_FACTOR = 4;

/**
 * Dense retrieval over windowed documents: ANN search over window vectors in every shard,
 * a document scores the max over its windows, shards merged exactly by score.
 */
export class DenseMethod implements VectorRetrievalMethod {
  readonly name = 'dense' as const;

  private readonly docIds: DocIdResolver;

  constructor(
    private readonly encoder: Encoder,
    private readonly shards: LoadedShard[],
  ) {
    for (const shard of shards) checkShardDimension(shard, encoder);
    this.docIds = passageDocIds((s) => shards[s].passages);
  }

  async search(queries: MethodQuery[]): Promise<Hit[][]> {
    if (queries.length === 0) return [];
    const vectors = await this.encoder.encodeQueries(queries.map((q) => q.text));
    return this.searchVectors(queries, vectors);
  }

  /** Search with query vectors already encoded (the pool router encodes once per query). */
  async searchVectors(queries: MethodQuery[], vectors: Float32Array): Promise<Hit[][]> {
    const perShard = await Promise.all(this.shards.map((shard, s) => searchDenseShard(shard, s, queries, vectors)));
    return Promise.all(queries.map((q, i) => mergeTopKInOrder(perShard.map((lists) => lists[i]), q.k, this.docIds)));
  }
}

export function checkShardDimension(shard: LoadedShard, encoder: Pick<Encoder, 'dimension' | 'modelId'>): void {
  if (shard.index.dimension !== encoder.dimension) {
    throw new Error(`model ${encoder.modelId} gives ${encoder.dimension}-d vectors but the index in ${shard.dir} holds ${shard.index.dimension}-d vectors`);
  }
}

/**
 * One shard's top-k documents per query (row i of `vectors` is query i). The pool's shard
 * hosts run exactly this, so a cluster merges the same lists a single node does.
 */
export async function searchDenseShard(shard: LoadedShard, shardNo: number, queries: MethodQuery[], vectors: Float32Array): Promise<Hit[][]> {
  const d = shard.index.dimension;
  if (vectors.length !== queries.length * d) {
    throw new Error(`expected ${queries.length} query vectors of dimension ${d}, got ${vectors.length} floats`);
  }
  const results: Hit[][] = queries.map(() => []);
  // One faiss call per distinct parameter set: batched search is much faster.
  const groups = new Map<string, number[]>();
  queries.forEach((q, i) => {
    const key = JSON.stringify([q.k, q.params?.nprobe, q.params?.efSearch, q.params?.windowFactor]);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const defaults = defaultSearchParams(shard.manifest.factoryKey);
  const docIds = passageDocIds(() => shard.passages);
  const l2 = shard.index.metric === 'l2'; // what faiss computes, whatever was asked for
  for (const members of groups.values()) {
    const q0 = queries[members[0]];
    const kWindows = Math.min(shard.index.ntotal, q0.k * (q0.params?.windowFactor ?? DEFAULT_WINDOW_FACTOR));
    if (kWindows === 0) continue;
    const batch = new Float32Array(members.length * d);
    members.forEach((qi, j) => batch.set(vectors.subarray(qi * d, (qi + 1) * d), j * d));
    const { distances, labels } = await shard.index.search(batch, kWindows, {
      nprobe: q0.params?.nprobe ?? defaults.nprobe,
      efSearch: q0.params?.efSearch ?? defaults.efSearch,
    });
    for (const [j, qi] of members.entries()) {
      const best = new Map<number, number>();
      for (let r = 0; r < kWindows; r++) {
        const label = labels[j * kWindows + r];
        if (label < 0n) continue;
        const ordinal = shard.vectorDocs[Number(label)];
        const score = l2 ? -distances[j * kWindows + r] : distances[j * kWindows + r];
        const prev = best.get(ordinal);
        if (prev === undefined || score > prev) best.set(ordinal, score);
      }
      const hits = Array.from(best, ([ordinal, score]): Hit => ({ docId: '', score, shard: shardNo, ordinal }));
      results[qi] = await topKInOrder(hits, queries[qi].k, docIds);
    }
  }
  return results;
}
