// Rewrite agreement: how close a conversational ranking comes to the ranking of the manual rewrite
// on the same index, with no judgments of that corpus needed. For each turn the rewrite's top-10
// (dense: the ad hoc encoder's vector of the rewrite; BM25: the rewrite's text) is the relevant set
// (binary); the figure is nDCG@10 of each system's ranking against it.
import type { Searcher } from '../../search/index.ts';
import { evaluate, type Qrels, type Run } from '../../eval/index.ts';
import type { ConversationTurn, Policy } from '../../conversation/index.ts';

export const REWRITE_AGREEMENT_DEPTH = 10;

/** What rewrite agreement needs from an index. */
export interface RankingSource {
  /** Top-k doc ids for each query vector (n × dimension), on the dense index. */
  dense(vectors: Float32Array, n: number, k: number): Promise<string[][]>;
  /** Top-k doc ids by BM25 for each query formed by its policy; undefined when the index has no BM25 postings. */
  bm25?(queries: readonly { text: string; context?: readonly ConversationTurn[]; policy?: Policy }[], k: number): Promise<string[][]>;
  /** The model the dense index was built with (its vectors must be the teacher's). */
  model: { id: string; manifestHash: string; dimension: number };
}

/**
 * The dense index's top-k for each of `n` query vectors (n × dimension), `batch` queries a call,
 * every hit's document id read: no encoder is loaded (the vectors are given).
 */
export async function searchByVectors(searcher: Searcher, vectors: Float32Array, n: number, k: number, batch = 64): Promise<{ docId: string; shard: number; ordinal: number }[][]> {
  const method = await searcher.method('dense');
  const d = vectors.length / Math.max(1, n);
  const out: { docId: string; shard: number; ordinal: number }[][] = [];
  for (let s = 0; s < n; s += batch) {
    const queries = Array.from({ length: Math.min(batch, n - s) }, (_, i) => ({ id: String(s + i), text: '', k, vector: vectors.subarray((s + i) * d, (s + i + 1) * d) }));
    for (const hits of await method.searchEncoded(queries)) {
      out.push(await Promise.all(hits.map(async (h) => ({ docId: h.docId || (await searcher.index.shards[h.shard].passages.get(h.ordinal)).id, shard: h.shard, ordinal: h.ordinal }))));
    }
  }
  return out;
}

/** A Searcher as a ranking source: dense searches take the vectors given (no encoder is loaded). */
export function searcherRankings(searcher: Searcher, opts: { batch?: number } = {}): RankingSource {
  const batch = opts.batch ?? 64;
  const hasBm25 = searcher.index.shards.every((s) => (s as { bm25?: unknown }).bm25 !== undefined);
  return {
    model: searcher.index.manifest.model,
    async dense(vectors, n, k) {
      return (await searchByVectors(searcher, vectors, n, k, batch)).map((hits) => hits.map((h) => h.docId));
    },
    ...(hasBm25
      ? {
          async bm25(queries, k) {
            const out: string[][] = [];
            for (let s = 0; s < queries.length; s += batch) {
              const part = queries.slice(s, s + batch).map((q, i) => ({ id: String(s + i), text: q.text, k, ...(q.context && q.context.length ? { context: q.context } : {}), ...(q.policy ? { params: { policy: q.policy } } : {}) }));
              for (const hits of await searcher.searchHits('bm25', part)) out.push(hits.map((h) => h.docId));
            }
            return out;
          },
        }
      : {}),
  };
}

/** nDCG@10 of each ranking against the reference's top-10 (binary relevance), per query. */
export function rankingAgreement(reference: readonly string[][], rankings: readonly string[][], k = REWRITE_AGREEMENT_DEPTH): number[] {
  if (reference.length !== rankings.length) throw new Error(`rewrite agreement: ${reference.length} reference rankings, ${rankings.length} to compare`);
  const qrels: Qrels = new Map();
  const run: Run = new Map();
  reference.forEach((ref, i) => {
    qrels.set(String(i), new Map(ref.slice(0, k).map((d) => [d, 1])));
    // Scores by rank, so evaluation keeps the order given.
    run.set(String(i), rankings[i].slice(0, k).map((d, r) => ({ docId: d, score: k - r })));
  });
  const ev = evaluate(run, qrels, [`ndcg@${k}`]);
  return reference.map((ref, i) => (ref.length === 0 ? NaN : (ev.perQuery.get(String(i))?.[`ndcg@${k}`] ?? 0)));
}
