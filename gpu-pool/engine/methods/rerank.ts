// The second stage any method can have: its best `depth` hits re-scored where their passages
// live (per shard, so a cluster re-ranks exactly as one node), then ordered by the new score or
// by a fusion of both.
import { DEFAULT_RERANK_DEPTH } from '../../../shared/protocol/index.ts';
import { topKInOrder, type DocIdResolver } from './order.ts';
import type { Hit, MethodQuery } from './types.ts';

/** Weight of the re-ranker's z-score in a fusion when the query gives none. */
export const DEFAULT_RERANK_WEIGHT = 0.5;

/** How deep the first stage goes for a query: its k, or the re-ranking depth when deeper. */
export function firstStageDepth(q: MethodQuery): number {
  return q.rerank ? Math.max(q.k, q.rerank.depth ?? DEFAULT_RERANK_DEPTH) : q.k;
}

/** The hits of each shard, as ordinals in hit order: what a per-shard re-scoring call takes. */
export function ordinalsByShard(hits: Hit[]): Map<number, { ordinals: Uint32Array; hits: Hit[] }> {
  const groups = new Map<number, Hit[]>();
  for (const h of hits) groups.set(h.shard, [...(groups.get(h.shard) ?? []), h]);
  return new Map([...groups].map(([s, list]) => [s, { ordinals: Uint32Array.from(list, (h) => h.ordinal), hits: list }]));
}

/** z-scores (0 for a constant list): puts two score scales on one before they are added. */
function zScores(values: number[]): number[] {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return values.map((v) => (sd > 0 ? (v - mean) / sd : 0));
}

/**
 * The final top q.k of a re-ranked first stage. `first` is the first stage's list (best first,
 * cut at its depth), `scores[i]` the re-ranker's score of `first[i]`. Each hit keeps both
 * scores and ranks in `branches` (first, rerank).
 */
export function rerankedTopK(q: MethodQuery, first: Hit[], scores: Float32Array | number[], docIds: DocIdResolver): Promise<Hit[]> {
  if (first.length === 0) return Promise.resolve([]);
  const rerankRank = new Map<Hit, number>();
  [...first.keys()].sort((a, b) => scores[b] - scores[a] || a - b).forEach((i, r) => rerankRank.set(first[i], r + 1));
  const fuse = q.rerank?.fuse ?? false;
  const w = q.rerank?.weight ?? DEFAULT_RERANK_WEIGHT;
  const zFirst = fuse ? zScores(first.map((h) => h.score)) : [];
  const zRerank = fuse ? zScores(Array.from(scores)) : [];
  const hits = first.map((h, i): Hit => ({
    docId: h.docId,
    shard: h.shard,
    ordinal: h.ordinal,
    score: fuse ? (1 - w) * zFirst[i] + w * zRerank[i] : scores[i],
    branches: { first: { score: h.score, rank: i + 1 }, rerank: { score: scores[i], rank: rerankRank.get(h)! } },
  }));
  return topKInOrder(hits, q.k, docIds);
}
