// `phrase fit-weights`: the evidence weights (weights.ts) that make training questions' rank-1
// result right most often, by coordinate search on a log grid with the phrase model's weight fixed
// at 1 (the scores only rank, so one weight is free). Four weights and a few hundred questions do
// not overfit the way a grid over the test questions would; the test articles are never read.
import { exactMatch, f1Score } from '../text/index.ts';
import type { PassageEvidence } from './passage-evidence.ts';
import type { PhraseWeights } from './weights.ts';

export interface FitQuestion {
  answers: string[];
  /** The passage (doc id) the question was asked on and where its answers start in it. */
  gold: { docId: string; starts: number[] };
  /** The passages phrase search reads for it, with their doc ids. */
  passages: { docId: string; evidence: PassageEvidence }[];
}

/** `phrase`: EM@1 (then F1@1) of the top phrase; `sentence`: the top sentence holds an answer start of the gold passage (then EM@1). */
export type FitTarget = 'phrase' | 'sentence';

export interface FitScore {
  em: number;
  f1: number;
  sentence: number;
}

/** Mean EM@1, F1@1 and sentence@1 of the top phrase under `w` over the questions. */
export function scoreWeights(questions: readonly FitQuestion[], w: PhraseWeights): FitScore {
  let em = 0;
  let f1 = 0;
  let sentence = 0;
  for (const q of questions) {
    let top: { p: (typeof q.passages)[number]; i: number; j: number; score: number } | undefined;
    for (const p of q.passages) {
      const b = p.evidence.best(w);
      if (b && (!top || b.score > top.score)) top = { p, ...b };
    }
    if (!top) continue;
    const { evidence, docId } = top.p;
    const text = evidence.text.slice(evidence.tokens.charStart[top.i], evidence.tokens.charEnd[top.j]);
    em += exactMatch(text, q.answers);
    f1 += f1Score(text, q.answers);
    if (docId === q.gold.docId) {
      const s = evidence.sentences[evidence.sentenceOf[top.i]];
      if (s && q.gold.starts.some((c) => s.start <= c && c < s.end)) sentence++;
    }
  }
  const n = Math.max(1, questions.length);
  return { em: em / n, f1: f1 / n, sentence: sentence / n };
}

function better(target: FitTarget, a: FitScore, b: FitScore): boolean {
  const key = (s: FitScore) => (target === 'phrase' ? [s.em, s.f1] : [s.sentence, s.em]);
  const [a0, a1] = key(a);
  const [b0, b1] = key(b);
  return a0 > b0 || (a0 === b0 && a1 > b1);
}

/** Values tried for one weight: 0 and a log grid 1/16 .. 256 (×2 steps). */
export const WEIGHT_GRID: readonly number[] = [0, ...Array.from({ length: 13 }, (_, k) => 2 ** (k - 4))];

export interface FitResult {
  weights: PhraseWeights;
  score: FitScore;
  /** Every accepted step, for the log. */
  steps: { weight: keyof PhraseWeights; value: number; score: FitScore }[];
  evaluations: number;
}

/**
 * Coordinate search from `start`: each round tries every grid value of each weight but `dense`,
 * keeps a value only if it improves the target, and stops after a round that changed nothing (or
 * `rounds` rounds).
 */
export function fitWeights(questions: readonly FitQuestion[], o: { target: FitTarget; start: PhraseWeights; rounds?: number; log?: (m: string) => void }): FitResult {
  let weights = { ...o.start };
  let score = scoreWeights(questions, weights);
  let evaluations = 1;
  const steps: FitResult['steps'] = [];
  const names: (keyof PhraseWeights)[] = ['bm25', 'sentence', 'context', 'overlap'];
  for (let round = 0; round < (o.rounds ?? 4); round++) {
    let changed = false;
    for (const name of names) {
      for (const value of WEIGHT_GRID) {
        if (value === weights[name]) continue;
        const trial = { ...weights, [name]: value };
        const s = scoreWeights(questions, trial);
        evaluations++;
        if (better(o.target, s, score)) {
          weights = trial;
          score = s;
          changed = true;
          steps.push({ weight: name, value, score: s });
          o.log?.(`round ${round + 1}: ${name} = ${value}: EM@1 ${s.em.toFixed(4)} F1@1 ${s.f1.toFixed(4)} sentence@1 ${s.sentence.toFixed(4)}`);
        }
      }
    }
    if (!changed) break;
  }
  return { weights, score, steps, evaluations };
}
