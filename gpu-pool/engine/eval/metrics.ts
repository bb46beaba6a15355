import { compareRanked } from '../methods/index.ts';
import type { Qrels, RankedDoc, Run } from './types.ts';

export type MetricName = `ndcg@${number}` | `mrr@${number}` | `recall@${number}` | `map@${number}` | `p@${number}`;

const KINDS = ['ndcg', 'mrr', 'recall', 'map', 'p'] as const;
type Kind = (typeof KINDS)[number];
const METRIC = /^(ndcg|mrr|recall|map|p)@([1-9]\d*)$/;

/** "ndcg@10, MRR@10,recall@100" → ['ndcg@10', 'mrr@10', 'recall@100'] (lowercased, duplicates dropped). */
export function parseMetrics(spec: string): MetricName[] {
  const names = spec.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (names.length === 0) throw new Error(`no metrics in ${JSON.stringify(spec)}; e.g. "ndcg@10,recall@100"`);
  for (const name of names) {
    if (!METRIC.test(name)) {
      throw new Error(`unknown metric ${JSON.stringify(name)}: expected one of ${KINDS.map((k) => `${k}@K`).join(', ')} with K a positive integer`);
    }
  }
  return [...new Set(names)] as MetricName[];
}

/**
 * trec_eval's ranking of a query's results: score descending, equal scores by docid descending
 * (strcmp order, reversed). The order a run lists documents in, and its rank column, are ignored.
 */
export function trecOrder(docs: readonly RankedDoc[]): RankedDoc[] {
  // The same comparison search and the methods' merges use: one tie order everywhere.
  return [...docs].sort(compareRanked);
}

export interface Evaluation {
  /** Mean of each metric over the evaluated queries (0 when there are none). */
  mean: Record<string, number>;
  perQuery: Map<string, Record<string, number>>;
  /** Number of evaluated queries. */
  queries: number;
}

/**
 * trec_eval-compatible metrics at cutoff K (relevant = relevance > 0; unjudged = non-relevant):
 *   ndcg@K    Σ_{i≤K} gain_i / log2(i + 1), gain = relevance (graded; ≤ 0 gains nothing),
 *             divided by the same sum over the query's judged documents sorted by relevance
 *             (trec_eval ndcg_cut, current formulation: rank 1 is undiscounted, rank 2 by log2 3)
 *   mrr@K     1 / rank of the first relevant document within K, else 0 (BEIR's MRR@K)
 *   recall@K  relevant within K / all relevant (trec_eval recall_K)
 *   map@K     Σ precision at each relevant rank ≤ K / all relevant (trec_eval map_cut_K)
 *   p@K       relevant within K / K, even when fewer than K were retrieved (trec_eval P_K)
 *
 * Evaluated queries: those in the qrels with at least one relevant document. One of them absent
 * from the run scores 0 on everything and still counts in the mean (as `trec_eval -c`); run
 * queries without judgments are ignored. A document retrieved twice for a query is an error,
 * as in trec_eval.
 */
export function evaluate(run: Run, qrels: Qrels, metrics: readonly MetricName[]): Evaluation {
  const parsed = parseMetrics(metrics.join(',')).map((name) => {
    const [, kind, k] = METRIC.exec(name)!;
    return { name, kind: kind as Kind, k: Number(k) };
  });
  const perQuery = new Map<string, Record<string, number>>();
  const sums: Record<string, number> = Object.fromEntries(parsed.map((m) => [m.name, 0]));

  for (const [qid, judged] of qrels) {
    const idealGains = [...judged.values()].filter((r) => r > 0).sort((a, b) => b - a);
    const numRel = idealGains.length;
    if (numRel === 0) continue;
    const docs = run.get(qid) ?? [];
    checkRun(qid, docs);
    const ranked = trecOrder(docs);
    const rels = ranked.map((d) => judged.get(d.docId) ?? 0);
    const values: Record<string, number> = {};
    for (const m of parsed) {
      values[m.name] = metric(m.kind, m.k, rels, idealGains, numRel);
      sums[m.name] += values[m.name];
    }
    perQuery.set(qid, values);
  }
  const queries = perQuery.size;
  const mean = Object.fromEntries(parsed.map((m) => [m.name, queries > 0 ? sums[m.name] / queries : 0]));
  return { mean, perQuery, queries };
}

/** One metric for one query; `rels[i]` is the relevance of the document at rank i + 1. */
function metric(kind: Kind, k: number, rels: readonly number[], idealGains: readonly number[], numRel: number): number {
  const depth = Math.min(k, rels.length);
  switch (kind) {
    case 'ndcg': {
      const dcg = discounted(rels, depth);
      const ideal = discounted(idealGains, Math.min(k, idealGains.length));
      return ideal > 0 ? dcg / ideal : 0;
    }
    case 'mrr': {
      for (let i = 0; i < depth; i++) if (rels[i] > 0) return 1 / (i + 1);
      return 0;
    }
    case 'recall':
      return countRelevant(rels, depth) / numRel;
    case 'p':
      return countRelevant(rels, depth) / k;
    case 'map': {
      let found = 0;
      let sum = 0;
      for (let i = 0; i < depth; i++) {
        if (rels[i] > 0) sum += ++found / (i + 1);
      }
      return sum / numRel;
    }
  }
}

function discounted(gains: readonly number[], depth: number): number {
  let sum = 0;
  for (let i = 0; i < depth; i++) if (gains[i] > 0) sum += gains[i] / Math.log2(i + 2);
  return sum;
}

function countRelevant(rels: readonly number[], depth: number): number {
  let n = 0;
  for (let i = 0; i < depth; i++) if (rels[i] > 0) n++;
  return n;
}

function checkRun(qid: string, docs: readonly RankedDoc[]): void {
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.docId)) throw new Error(`run retrieves document ${d.docId} twice for query ${qid}`);
    if (Number.isNaN(d.score)) throw new Error(`run has a NaN score for document ${d.docId} of query ${qid}`);
    seen.add(d.docId);
  }
}
