import { exactMatch, f1Score, normalizeAnswer } from '../phrase/text/index.ts';

// Open-domain QA metrics for phrase retrieval, per query, over the ranked phrases a method
// returns. Answers are compared as the SQuAD script does (normalizeAnswer), as DensePhrases
// reports them. Answers that are regular expressions (CuratedTREC) are not handled here.

export interface QaPrediction {
  phrase: string;
  /** The evidence passage the phrase was found in; the phrase alone when absent. */
  passage?: string;
}

/** Exact match of the top phrase with some gold answer (0 with no predictions). */
export function emAt1(predictions: readonly QaPrediction[], golds: readonly string[]): number {
  return predictions.length === 0 ? 0 : exactMatch(predictions[0].phrase, golds);
}

/** Best token F1 of the top phrase against the gold answers (0 with no predictions). */
export function f1At1(predictions: readonly QaPrediction[], golds: readonly string[]): number {
  return predictions.length === 0 ? 0 : f1Score(predictions[0].phrase, golds);
}

/** 1 when one of the top-k phrases equals a gold answer after normalisation, else 0. */
export function phraseExactRecallAt(k: number, predictions: readonly QaPrediction[], golds: readonly string[]): number {
  checkK(k);
  return predictions.slice(0, k).some((p) => exactMatch(p.phrase, golds) === 1) ? 1 : 0;
}

/**
 * 1 when a gold answer occurs in the evidence of one of the top-k predictions, else 0: the
 * normalised answer as whole words of the normalised passage (so "1972" is not found in
 * "19721"). An answer that normalises to nothing ("the") is never found.
 */
export function answerRecallAt(k: number, predictions: readonly QaPrediction[], golds: readonly string[]): number {
  checkK(k);
  const answers = golds.map(normalizeAnswer).filter((a) => a !== '').map((a) => ` ${a} `);
  if (answers.length === 0) return 0;
  for (const p of predictions.slice(0, k)) {
    const evidence = ` ${normalizeAnswer(p.passage ?? p.phrase)} `;
    if (answers.some((a) => evidence.includes(a))) return 1;
  }
  return 0;
}

/** One query's scores, keyed `em@1`, `f1@1`, `phrase-recall@K`, `answer-recall@K`. */
export type QaScores = Record<string, number>;

/** All the metrics for one query, recall at each cutoff in `ks`. */
export function scoreQa(predictions: readonly QaPrediction[], golds: readonly string[], ks: readonly number[] = [1, 10, 100]): QaScores {
  const scores: QaScores = { 'em@1': emAt1(predictions, golds), 'f1@1': f1At1(predictions, golds) };
  for (const k of ks) {
    scores[`phrase-recall@${k}`] = phraseExactRecallAt(k, predictions, golds);
    scores[`answer-recall@${k}`] = answerRecallAt(k, predictions, golds);
  }
  return scores;
}

/** The mean of each metric over the queries (every row must have the same metrics). */
export function summarizeQa(rows: readonly QaScores[]): { mean: Record<string, number>; queries: number } {
  if (rows.length === 0) return { mean: {}, queries: 0 };
  const names = Object.keys(rows[0]);
  const sums: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  rows.forEach((row, i) => {
    const keys = Object.keys(row);
    if (keys.length !== names.length || !names.every((n) => n in row)) {
      throw new Error(`QA row ${i} has metrics ${keys.join(', ')}; row 0 has ${names.join(', ')}`);
    }
    for (const n of names) sums[n] += row[n];
  });
  return { mean: Object.fromEntries(names.map((n) => [n, sums[n] / rows.length])), queries: rows.length };
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`cutoff must be a positive integer, got ${k}`);
}
