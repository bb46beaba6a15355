import { topKInOrder } from '../order.ts';
import type { Hit, MethodPlugin, MethodQuery } from '../types.ts';

export const DEFAULT_RRF_K = 60;
export const DEFAULT_DEPTH = 100;

/** How deep each branch is searched before fusion. */
export function branchDepth(q: MethodQuery): number {
  return Math.max(q.k, q.params?.depth ?? DEFAULT_DEPTH);
}

/**
 * Reciprocal rank fusion scores of a dense and a BM25 ranking (each best first), every fused hit,
 * unordered: score = Σ w_b / (rrfK + rank_b). Each hit carries its per-branch score and rank.
 */
export function fusedScores(q: MethodQuery, dense: Hit[], bm25: Hit[]): Hit[] {
  const rrfK = q.params?.rrfK ?? DEFAULT_RRF_K;
  const weights = { dense: q.params?.weights?.dense ?? 1, bm25: q.params?.weights?.bm25 ?? 1 };
  const fused = new Map<string, Hit>();
  for (const [branch, hits] of [['dense', dense], ['bm25', bm25]] as const) {
    hits.forEach((hit, r) => {
      const key = `${hit.shard}:${hit.ordinal}`;
      const entry = fused.get(key) ?? { docId: hit.docId, score: 0, shard: hit.shard, ordinal: hit.ordinal, branches: {} };
      if (entry.docId === '') entry.docId = hit.docId; // a branch that resolved it (a tie there)
      entry.score += weights[branch] / (rrfK + r + 1);
      entry.branches![branch] = { score: hit.score, rank: r + 1 };
      fused.set(key, entry);
    });
  }
  return [...fused.values()].filter((h) => h.score > 0);
}

/** Hybrid retrieval: both branches searched to `depth`, fused by reciprocal rank, ties by document id. */
export const hybridMethod: MethodPlugin = {
  name: 'hybrid',
  encodings: ['sentence'],
  branches: ['dense', 'bm25'],
  plan: (q) => [
    { branch: 'dense', k: branchDepth(q) },
    { branch: 'bm25', k: branchDepth(q) },
  ],
  combine: (q, lists, docIds) => topKInOrder(fusedScores(q, lists.dense ?? [], lists.bm25 ?? []), q.k, docIds),
};
