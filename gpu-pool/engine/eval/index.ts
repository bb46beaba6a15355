// Retrieval evaluation compatible with trec_eval: qrels and TREC run files in and out, and
// nDCG / MRR / recall / MAP / precision at cutoffs.
export type { Qrels, RankedDoc, Run } from './types.ts';
export { readJudgments, readQrels, type Judgment } from './qrels.ts';
export { evaluate, parseMetrics, trecOrder, type Evaluation, type MetricName } from './metrics.ts';
export { readTrecRun, writeColbertRanking, writeTrecRun } from './trec-run.ts';
export { answerRecallAt, emAt1, f1At1, phraseExactRecallAt, scoreQa, summarizeQa, type QaPrediction, type QaScores } from './qa-metrics.ts';
