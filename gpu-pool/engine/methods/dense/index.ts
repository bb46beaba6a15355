import type { Encoder } from '../../encoders/index.ts';
import { denseShard, type DenseShard, type LoadedShard } from '../../shard/index.ts';
import { passageDocIds, topKInOrder } from '../order.ts';
import type { Hit, MethodPlugin, MethodQuery, ShardBranch } from '../types.ts';
import { defaultSearchParams } from './default-params.ts';

export { DEFAULT_HNSW_EF_SEARCH, DEFAULT_NPROBE_SHARE, defaultSearchParams } from './default-params.ts';

const DEFAULT_WINDOW_FACTOR = 4;

/**
 * Dense retrieval over windowed documents: ANN search over window vectors in every shard,
 * a document scores the max over its windows, shards merged exactly by score.
 */
export const denseMethod: MethodPlugin = {
  name: 'dense',
  encodings: ['sentence'],
  branches: ['dense'],
  plan: (q) => [{ branch: 'dense', k: q.k }],
  combine: async (_q, lists) => lists.dense ?? [],
};

/** The per-shard search of dense retrieval: ANN over the shard's window vectors. */
export const denseBranch: ShardBranch = {
  name: 'dense',
  check: (shard) => void denseShard(shard),
  search: (loaded, shardNo, queries) => {
    const shard = denseShard(loaded);
    const d = shard.index.dimension;
    const vectors = new Float32Array(queries.length * d);
    queries.forEach((q, j) => {
      if (!q.vector) throw new Error(`query ${q.id}: dense search needs a query vector`);
      if (q.vector.length !== d) throw new QueryVectorError(q.id, q.vector.length, shardNo, d);
      vectors.set(q.vector, j * d);
    });
    return searchDenseShard(shard, shardNo, queries, vectors);
  },
};

/** A query vector whose dimension is not the shard's (a caller's mistake: the pool answers bad-frame). */
export class QueryVectorError extends Error {
  constructor(
    readonly queryId: string,
    got: number,
    shardNo: number,
    want: number,
  ) {
    super(`query ${queryId}: vector has dimension ${got}, shard ${shardNo} holds ${want}-d vectors`);
    this.name = 'QueryVectorError';
  }
}

export function checkShardDimension(loaded: LoadedShard, encoder: Pick<Encoder, 'dimension' | 'modelId'>): void {
  const shard = denseShard(loaded);
  if (shard.index.dimension !== encoder.dimension) {
    throw new Error(`model ${encoder.modelId} gives ${encoder.dimension}-d vectors but the index in ${shard.dir} holds ${shard.index.dimension}-d vectors`);
  }
}

/**
 * One shard's top-k documents per query (row i of `vectors` is query i). The pool's shard
 * hosts run exactly this, so a cluster merges the same lists a single node does.
 */
export async function searchDenseShard(shard: DenseShard, shardNo: number, queries: MethodQuery[], vectors: Float32Array): Promise<Hit[][]> {
  const d = shard.index.dimension;
  if (vectors.length !== queries.length * d) {
    throw new Error(`expected ${queries.length} query vectors of dimension ${d}, got ${vectors.length} floats`);
  }
  const results: Hit[][] = queries.map(() => []);
  // One faiss call per distinct parameter set: batched search is much faster.
  const groups = new Map<string, number[]>();
  queries.forEach((q, i) => {
    const key = JSON.stringify([q.k, q.params?.nprobe, q.params?.efSearch, q.params?.windowFactor, q.params?.refineFactor]);
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
      kFactor: q0.params?.refineFactor ?? defaults.kFactor,
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
