import { compareHits, type Hit, type MethodQuery, type RetrievalMethod } from '../types.ts';

export const DEFAULT_RRF_K = 60;
export const DEFAULT_DEPTH = 100;

/** How deep each branch is searched before fusion. */
export function branchDepth(q: MethodQuery): number {
  return Math.max(q.k, q.params?.depth ?? DEFAULT_DEPTH);
}

/**
 * Reciprocal rank fusion of a dense and a BM25 ranking (each best first):
 * score = Σ w_b / (rrfK + rank_b). Each hit carries its per-branch score and rank.
 */
export function fuseReciprocalRank(q: MethodQuery, dense: Hit[], bm25: Hit[]): Hit[] {
  const rrfK = q.params?.rrfK ?? DEFAULT_RRF_K;
  const weights = { dense: q.params?.weights?.dense ?? 1, bm25: q.params?.weights?.bm25 ?? 1 };
  const fused = new Map<string, Hit>();
  for (const [branch, hits] of [['dense', dense], ['bm25', bm25]] as const) {
    hits.forEach((hit, r) => {
      const key = `${hit.shard}:${hit.ordinal}`;
      const entry = fused.get(key) ?? { docId: hit.docId, score: 0, shard: hit.shard, ordinal: hit.ordinal, branches: {} };
      entry.score += weights[branch] / (rrfK + r + 1);
      entry.branches![branch] = { score: hit.score, rank: r + 1 };
      fused.set(key, entry);
    });
  }
  return [...fused.values()].filter((h) => h.score > 0).sort(compareHits).slice(0, q.k);
}

/** Hybrid retrieval: both branches searched to `depth`, fused by reciprocal rank. */
export class HybridMethod implements RetrievalMethod {
  readonly name = 'hybrid' as const;

  constructor(
    private readonly dense: RetrievalMethod,
    private readonly bm25: RetrievalMethod,
  ) {}

  async search(queries: MethodQuery[]): Promise<Hit[][]> {
    const branchQueries = queries.map((q) => ({ ...q, k: branchDepth(q) }));
    const [dense, bm25] = await Promise.all([this.dense.search(branchQueries), this.bm25.search(branchQueries)]);
    return queries.map((q, i) => fuseReciprocalRank(q, dense[i], bm25[i]));
  }
}
