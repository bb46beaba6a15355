// Choosing hybrid's fusion from judged queries: every candidate (RRF with its k and branch
// weights, convex combinations of min-max or z-scored branch scores, each branch alone) scored on
// every query from the two branch lists searched once, the best on all queries chosen, and the
// procedure cross-validated by query id (each fold scored by the choice made on the others).
import { createHash } from 'node:crypto';
import { evaluate, type MetricName, type Qrels } from '../eval/index.ts';
import { compareRanked, type Hit } from '../methods/index.ts';
import { describeFusion, fusedScores } from '../methods/hybrid/index.ts';
import type { FusionChoice } from '../shard/index.ts';

/** Both branch lists of one query, best first, doc ids resolved. */
export interface BranchLists {
  id: string;
  dense: Hit[];
  bm25: Hit[];
}

/** The untuned default: RRF k 60, equal weights. */
export const DEFAULT_FUSION: FusionChoice = { method: 'rrf', rrfK: 60, weights: { dense: 1, bm25: 1 } };
const BM25_ONLY: FusionChoice = { method: 'rrf', rrfK: 60, weights: { dense: 0, bm25: 1 } };
const DENSE_ONLY: FusionChoice = { method: 'rrf', rrfK: 60, weights: { dense: 1, bm25: 0 } };

/**
 * The candidates, the default first (a tie keeps it), then each branch alone, then RRF k 10-100
 * and min-max and z-score combinations at dense weights 0.1-0.9 (bm25 = 1 - dense).
 */
export function fusionCandidates(): FusionChoice[] {
  const out: FusionChoice[] = [DEFAULT_FUSION, BM25_ONLY, DENSE_ONLY];
  const shares = Array.from({ length: 9 }, (_, i) => (i + 1) / 10);
  const split = (d: number) => ({ dense: d, bm25: Number((1 - d).toFixed(1)) });
  for (const rrfK of [10, 30, 60, 100]) for (const d of shares) out.push({ method: 'rrf', rrfK, weights: split(d) });
  for (const method of ['minmax', 'zscore'] as const) for (const d of shares) out.push({ method, weights: split(d) });
  return out;
}

export interface FusionChoiceResult {
  choice: FusionChoice;
  /** The choice's metric over every query. */
  chosen: number;
  crossValidated: number;
  references: Record<string, number>;
  perFold: { queries: number; choice: string; heldOut: number }[];
  candidates: number;
}

/** The fold of a query id: the same id, the same fold, whatever the file's order. */
export function foldOf(id: string, folds: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % folds;
}

/** score[c][q]: candidate c's `metric` on query q, each fusion computed from the branch lists. */
export function scoreCandidates(lists: BranchLists[], qrels: Qrels, metric: MetricName, candidates: FusionChoice[] = fusionCandidates()): number[][] {
  const k = Number(metric.split('@')[1]);
  const judged = new Map(lists.map((l) => [l.id, qrels.get(l.id)!]));
  return candidates.map((fusion) => {
    const run = new Map(
      lists.map((l) => {
        const fused = fusedScores({ id: l.id, text: '', k, params: { fusion: fusion.method, rrfK: fusion.rrfK, weights: fusion.weights } }, l.dense, l.bm25);
        return [l.id, fused.sort(compareRanked).slice(0, k).map((h) => ({ docId: h.docId, score: h.score }))];
      }),
    );
    const perQuery = evaluate(run, judged, [metric]).perQuery;
    return lists.map((l) => perQuery.get(l.id)?.[metric] ?? 0);
  });
}

/**
 * Scores every candidate on every query (`metric` against `qrels`), chooses the best over all
 * queries, and cross-validates that choice over `folds` folds by query id.
 */
export function chooseFusion(lists: BranchLists[], qrels: Qrels, metric: MetricName, folds: number): FusionChoiceResult {
  if (lists.length === 0) throw new Error('no judged query to tune on');
  const candidates = fusionCandidates();
  const score = scoreCandidates(lists, qrels, metric, candidates);
  const mean = (c: number, members: number[]) => members.reduce((s, q) => s + score[c][q], 0) / members.length;
  const best = (members: number[]) => {
    let top = 0;
    for (let c = 1; c < candidates.length; c++) if (mean(c, members) > mean(top, members) + 1e-12) top = c;
    return top;
  };
  const all = lists.map((_, q) => q);
  const chosen = best(all);
  const fold = lists.map((l) => foldOf(l.id, folds));
  const perFold: FusionChoiceResult['perFold'] = [];
  let heldOutSum = 0;
  for (let f = 0; f < folds; f++) {
    const inside = all.filter((q) => fold[q] === f);
    const outside = all.filter((q) => fold[q] !== f);
    if (inside.length === 0 || outside.length === 0) continue;
    const c = best(outside);
    const heldOut = mean(c, inside);
    heldOutSum += heldOut * inside.length;
    perFold.push({ queries: inside.length, choice: describeFusion(candidates[c]), heldOut });
  }
  const heldOutQueries = perFold.reduce((n, f) => n + f.queries, 0);
  return {
    choice: candidates[chosen],
    chosen: mean(chosen, all),
    crossValidated: heldOutQueries > 0 ? heldOutSum / heldOutQueries : mean(chosen, all),
    references: { 'bm25 only': mean(1, all), 'dense only': mean(2, all), [`${describeFusion(DEFAULT_FUSION)} (untuned default)`]: mean(0, all) },
    perFold,
    candidates: candidates.length,
  };
}
