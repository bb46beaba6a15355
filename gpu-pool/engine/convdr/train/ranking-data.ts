// Ranking data for ConvDR's multi-task loss, from qrels and a dense index built with the teacher's
// model. For every training turn with at least one relevant document (grade > 0) in the index:
// positives = the relevant documents' vectors; negatives = the top dense hits of the teacher's
// vector of the manual rewrite that are not judged relevant (ConvDR's hard negatives; documents
// judged 0 may be among them). A document's vector is the one of its windows with the highest
// inner product with that turn's teacher vector (computed once, before training): the window the
// rewrite would match it by, as search scores a document by its best window.
import type { Qrels } from '../../eval/index.ts';
import type { DocumentSource } from './document-vectors.ts';
import type { RankRow } from './rank-loss.ts';

export const DEFAULT_RANK_NEGATIVES = 20;

export interface RankingDataSummary {
  /** Training turns with at least one judgment in the qrels. */
  judgedTurns: number;
  /** Distinct documents judged relevant for those turns, and how many of them the index holds. */
  relevantDocuments: number;
  relevantInIndex: number;
  /** Turns with ranking data (a relevant document in the index, and at least one negative). */
  turns: number;
  /** Positives over those turns. */
  positives: number;
  /** Mean negatives per turn. */
  meanNegatives: number;
}

/** The document's window (a row of `windows`) with the highest inner product with `t` (row `r` of an n × d matrix). */
function bestWindow(windows: Float32Array, t: Float32Array, r: number, d: number): Float32Array {
  let best = 0;
  let bestScore = -Infinity;
  for (let w = 0; w < windows.length / d; w++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += windows[w * d + j] * t[r * d + j];
    if (s > bestScore) [best, bestScore] = [w, s];
  }
  return windows.subarray(best * d, (best + 1) * d);
}

/** Per turn (row of `t`), its ranking data or undefined; and what was found. */
export async function rankingData(turnIds: readonly string[], t: Float32Array, d: number, qrels: Qrels, docs: DocumentSource, negatives = DEFAULT_RANK_NEGATIVES): Promise<{ rank: (RankRow | undefined)[]; summary: RankingDataSummary }> {
  const relevant = turnIds.map((id) => [...(qrels.get(id) ?? new Map<string, number>())].filter(([, grade]) => grade > 0).map(([doc]) => doc));
  const judgedTurns = turnIds.filter((id) => qrels.has(id)).length;
  const relevantIds = new Set(relevant.flat());
  const windows = await docs.windows(relevantIds);
  const rows = turnIds.flatMap((_, r) => (relevant[r].some((doc) => windows.has(doc)) ? [r] : []));
  const rank: (RankRow | undefined)[] = turnIds.map(() => undefined);
  let positives = 0;
  let negativeSum = 0;
  if (rows.length > 0) {
    // Enough hits that `negatives` remain once the turn's relevant documents are left out.
    const k = negatives + Math.max(...rows.map((r) => relevant[r].length));
    const q = new Float32Array(rows.length * d);
    rows.forEach((r, i) => q.set(t.subarray(r * d, (r + 1) * d), i * d));
    const hits = await docs.search(q, rows.length, k);
    const negIds = rows.map((r, i) => {
      const rel = new Set(relevant[r]);
      return hits[i].filter((doc) => !rel.has(doc)).slice(0, negatives);
    });
    const negWindows = await docs.windows(new Set(negIds.flat()));
    rows.forEach((r, i) => {
      const pos = relevant[r].filter((doc) => windows.has(doc));
      const neg = negIds[i].filter((doc) => negWindows.has(doc));
      if (neg.length === 0) return;
      const row: RankRow = { positives: new Float32Array(pos.length * d), negatives: new Float32Array(neg.length * d) };
      pos.forEach((doc, j) => row.positives.set(bestWindow(windows.get(doc)!, t, r, d), j * d));
      neg.forEach((doc, j) => row.negatives.set(bestWindow(negWindows.get(doc)!, t, r, d), j * d));
      rank[r] = row;
      positives += pos.length;
      negativeSum += neg.length;
    });
  }
  const turns = rank.filter(Boolean).length;
  return { rank, summary: { judgedTurns, relevantDocuments: relevantIds.size, relevantInIndex: windows.size, turns, positives, meanNegatives: turns ? negativeSum / turns : 0 } };
}
