import type { QueryParams } from '../../../../shared/protocol/index.ts';
import type { FusionChoice } from '../../shard/index.ts';
import { topKInOrder } from '../order.ts';
import type { Hit, MethodPlugin, MethodQuery } from '../types.ts';

export const DEFAULT_RRF_K = 60;
export const DEFAULT_DEPTH = 100;

/** How deep each branch is searched before fusion. */
export function branchDepth(q: MethodQuery): number {
  return Math.max(q.k, q.params?.depth ?? DEFAULT_DEPTH);
}

/**
 * Fused scores of a dense and a BM25 ranking (each best first), every fused hit, unordered, by
 * `params.fusion` (shared/protocol/params.ts): reciprocal rank fusion, score = Σ w_b / (rrfK +
 * rank_b), or a convex combination of per-query normalised scores. Each hit carries its
 * per-branch score and rank. Hits only a zero-weight branch returned are left out.
 */
export function fusedScores(q: MethodQuery, dense: Hit[], bm25: Hit[]): Hit[] {
  const rrfK = q.params?.rrfK ?? DEFAULT_RRF_K;
  const fusion = q.params?.fusion ?? 'rrf';
  const weights = { dense: q.params?.weights?.dense ?? 1, bm25: q.params?.weights?.bm25 ?? 1 };
  const lists = [['dense', dense], ['bm25', bm25]] as const;
  const normalised = Object.fromEntries(lists.map(([branch, hits]) => [branch, fusion === 'rrf' ? undefined : normalise(hits.map((h) => h.score), fusion)]));
  const fused = new Map<string, Hit>();
  const counted = new Set<string>();
  for (const [branch, hits] of lists) {
    hits.forEach((hit, r) => {
      const key = `${hit.shard}:${hit.ordinal}`;
      const entry = fused.get(key) ?? { docId: hit.docId, score: 0, shard: hit.shard, ordinal: hit.ordinal, branches: {} };
      if (entry.docId === '') entry.docId = hit.docId; // a branch that resolved it (a tie there)
      const norm = normalised[branch];
      entry.score += norm ? weights[branch] * (norm.scores[r] - norm.floor) : weights[branch] / (rrfK + r + 1);
      entry.branches![branch] = { score: hit.score, rank: r + 1 };
      if (weights[branch] > 0) counted.add(key);
      fused.set(key, entry);
    });
  }
  // A convex score counts from each branch's floor (what a missing document gets), so it is
  // never negative and an absent branch adds nothing; the floors' sum is the same for every hit.
  return [...fused.entries()].filter(([key]) => counted.has(key)).map(([, h]) => h);
}

/**
 * A branch's scores normalised over its list, and the floor a document missing from the list
 * gets (the lowest normalised score). A list of equal scores (or one hit) normalises to 1, floor 0.
 */
export function normalise(scores: number[], how: 'minmax' | 'zscore'): { scores: number[]; floor: number } {
  if (scores.length === 0) return { scores: [], floor: 0 };
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  if (max === min) return { scores: scores.map(() => 1), floor: 0 };
  if (how === 'minmax') return { scores: scores.map((s) => (s - min) / (max - min)), floor: 0 };
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / scores.length);
  const z = scores.map((s) => (s - mean) / sd);
  return { scores: z, floor: Math.min(...z) };
}

/** Hybrid retrieval: both branches searched to `depth`, fused (reciprocal rank by default), ties by document id. */
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

/**
 * The params a hybrid query runs with on an index whose index.json has a default fusion (`index
 * tune`): a query that sets none of fusion, rrfK and weights takes the index's; one that sets any
 * uses its own, with the built-in defaults (RRF k 60, weights 1) for the rest, never a mix.
 */
export function withFusionDefault(params: QueryParams | undefined, fusion: FusionChoice | undefined): QueryParams | undefined {
  if (!fusion || setsOwnFusion(params)) return params;
  return { ...params, fusion: fusion.method, ...(fusion.rrfK !== undefined ? { rrfK: fusion.rrfK } : {}), weights: { ...fusion.weights } };
}

/** Whether a query sets any of fusion, rrfK and weights (and so none comes from the index). */
function setsOwnFusion(params: QueryParams | undefined): boolean {
  return params?.fusion !== undefined || params?.rrfK !== undefined || params?.weights !== undefined;
}

/** The fusion a hybrid query runs with, and where it comes from (what `search` and `eval` print). */
export function fusionInUse(params: QueryParams | undefined, indexFusion: FusionChoice | undefined): { fusion: FusionChoice; from: 'query' | 'index' | 'default' } {
  const own = setsOwnFusion(params);
  const used = withFusionDefault(params, indexFusion);
  const method = used?.fusion ?? 'rrf';
  return {
    fusion: { method, ...(method === 'rrf' ? { rrfK: used?.rrfK ?? DEFAULT_RRF_K } : {}), weights: { dense: used?.weights?.dense ?? 1, bm25: used?.weights?.bm25 ?? 1 } },
    from: own ? 'query' : indexFusion ? 'index' : 'default',
  };
}

/** A fusion in one short phrase: "rrf k 60, dense 1 bm25 1". */
export function describeFusion(f: FusionChoice): string {
  return `${f.method}${f.method === 'rrf' ? ` k ${f.rrfK ?? DEFAULT_RRF_K}` : ''}, dense ${f.weights.dense} bm25 ${f.weights.bm25}`;
}
