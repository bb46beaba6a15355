// The training loop of `phrase train`, on features already in memory: Adam on the four heads over
// epochs of seeded mini-batches of questions (spanLossAndGradient, in-batch negatives), validation
// after every epoch (EM / F1 of the gold-paragraph reader's top phrase), early stopping on
// validation F1 with patience, and the heads of the best epoch kept. No I/O here.
import { seededRandom, shuffle, type FeatureSet } from '../../colbert/train/index.ts';
import { matmul } from '../../index/index.ts';
import { Adam } from '../../optimize/index.ts';
import type { TokenBoundaries } from '../model/index.ts';
import { goldParagraphReader } from '../reader/index.ts';
import { exactMatch, f1Score } from '../text/index.ts';
import { headViews, spanLossAndGradient, type SpanBatch } from './span-loss.ts';

/** A training question: its row of `queries`, its gold paragraph, and gold start / end tokens there. */
export interface TrainQuestion {
  query: number;
  paragraph: number;
  starts: readonly number[];
  ends: readonly number[];
}

/** A validation question: its row of `queries`, its gold paragraph and its answer texts. */
export interface ValidationQuestion {
  query: number;
  paragraph: number;
  answers: readonly string[];
}

export interface HeadsData {
  /** Feature dimension. */
  H: number;
  /** Item p: paragraph p's raw token features (tokens × H). */
  paragraphs: FeatureSet;
  boundaries: readonly TokenBoundaries[];
  texts: readonly string[];
  /** Mean token feature of each question, rows × H. */
  queries: Float32Array;
  train: readonly TrainQuestion[];
  validation: readonly ValidationQuestion[];
}

export interface Validation {
  /** Means over the validation questions, in [0, 1]; NaN without any. */
  em: number;
  f1: number;
}

export interface EpochReport extends Validation {
  epoch: number;
  /** Mean training loss over the epoch's batches (NaN for epoch 0, the starting point). */
  loss: number;
  seconds: number;
}

export interface HeadsTrainOptions {
  dim: number;
  /** 4 × H × dim starting heads (not modified). */
  init: Float32Array;
  epochs: number;
  lr: number;
  /** Questions per Adam step. */
  batchSize: number;
  seed: number;
  /** Epochs without a better validation F1 before stopping. */
  patience: number;
  maxPhraseTokens: number;
  /** validate(data, init, …) when the caller has measured it already. */
  start?: Validation;
  onEpoch?: (report: EpochReport) => void;
  /** Training questions done in the current epoch. */
  onProgress?: (done: number, total: number) => void;
}

export interface HeadsTrainResult {
  /** Heads of the best epoch (a copy of init when none beat it), 4 × H × dim in file order. */
  params: Float32Array;
  /** Epoch 0 is the starting point. */
  history: EpochReport[];
  bestEpoch: number;
}

/**
 * Small seeded random heads, uniform in ±0.1/√H: on unit-scale features (feature-scale.ts) the
 * first logits are near 0 (every token about as likely) and no direction is favoured.
 */
export function initialHeads(H: number, d: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  const a = 0.1 / Math.sqrt(H);
  return Float32Array.from({ length: 4 * H * d }, () => (2 * rnd() - 1) * a);
}

/** The batch of these questions: their gold paragraphs' tokens (each paragraph once) and gold tokens as rows there. */
export function assembleBatch(data: HeadsData, questions: readonly TrainQuestion[], buffer?: { X: Float32Array }): SpanBatch {
  const { H } = data;
  const at = new Map<number, number>();
  let T = 0;
  for (const q of questions) {
    if (at.has(q.paragraph)) continue;
    at.set(q.paragraph, T);
    T += data.paragraphs.rows(q.paragraph);
  }
  let X: Float32Array;
  if (buffer) {
    if (buffer.X.length < T * H) buffer.X = new Float32Array(T * H);
    X = buffer.X.subarray(0, T * H);
  } else X = new Float32Array(T * H);
  for (const [p, o] of at) X.set(data.paragraphs.view(p), o * H);
  const M = new Float32Array(questions.length * H);
  questions.forEach((q, b) => M.set(data.queries.subarray(q.query * H, (q.query + 1) * H), b * H));
  return {
    X,
    T,
    M,
    B: questions.length,
    starts: questions.map((q) => q.starts.map((t) => at.get(q.paragraph)! + t)),
    ends: questions.map((q) => q.ends.map((t) => at.get(q.paragraph)! + t)),
  };
}

/**
 * Mean loss over the training questions in fixed batches of `batchSize`: a deterministic figure
 * for tests and logs. The batches follow one fixed shuffle, not data order, where neighbours share
 * a paragraph and the softmax would run over fewer tokens than in training.
 */
export function meanSpanLoss(data: HeadsData, params: Float32Array, d: number, batchSize: number): number {
  let sum = 0;
  const buffer = { X: new Float32Array(0) };
  const order = shuffle(data.train.length, seededRandom(0));
  for (let s = 0; s < order.length; s += batchSize)
    sum += spanLossAndGradient(params, data.H, d, assembleBatch(data, order.slice(s, s + batchSize).map((i) => data.train[i]), buffer));
  return data.train.length ? sum / data.train.length : NaN;
}

/** EM and F1 of the reader's top phrase in each validation question's gold paragraph, under `params`. */
export function validate(data: HeadsData, params: Float32Array, d: number, maxPhraseTokens: number): Validation {
  const n = data.validation.length;
  if (n === 0) return { em: NaN, f1: NaN };
  const { H } = data;
  const w = headViews(params, H, d);
  const M = new Float32Array(n * H);
  data.validation.forEach((v, k) => M.set(data.queries.subarray(v.query * H, (v.query + 1) * H), k * H));
  const qs = matmul(M, w.queryStart, n, d, H);
  const qe = matmul(M, w.queryEnd, n, d, H);
  const phrases = new Map<number, { tokens: number; starts: Float32Array; ends: Float32Array; boundaries: TokenBoundaries }>();
  let em = 0;
  let f1 = 0;
  data.validation.forEach((v, k) => {
    let p = phrases.get(v.paragraph);
    if (!p) {
      const T = data.paragraphs.rows(v.paragraph);
      const X = data.paragraphs.view(v.paragraph);
      p = { tokens: T, starts: matmul(X, w.start, T, d, H), ends: matmul(X, w.end, T, d, H), boundaries: data.boundaries[v.paragraph] };
      phrases.set(v.paragraph, p);
    }
    const [best] = goldParagraphReader(p, { start: qs.subarray(k * d, (k + 1) * d), end: qe.subarray(k * d, (k + 1) * d) }, { maxPhraseTokens });
    const text = best ? data.texts[v.paragraph].slice(best.charStart, best.charEnd) : '';
    em += exactMatch(text, v.answers);
    f1 += f1Score(text, v.answers);
  });
  return { em: em / n, f1: f1 / n };
}

export function trainHeads(data: HeadsData, opts: HeadsTrainOptions): HeadsTrainResult {
  const { H } = data;
  const d = opts.dim;
  if (opts.init.length !== 4 * H * d) throw new RangeError(`initial heads hold ${opts.init.length} weights, not 4 × ${H} × ${d}`);
  if (data.train.length === 0) throw new RangeError('no training questions');
  const params = opts.init.slice();
  // Its own stream: the order does not depend on how the heads were drawn.
  const rnd = seededRandom(opts.seed + 0x9e37);
  const adam = new Adam(params.length, { lr: opts.lr });
  const grad = new Float32Array(params.length);
  const buffer = { X: new Float32Array(0) };
  const start = opts.start ?? validate(data, params, d, opts.maxPhraseTokens);
  const history: EpochReport[] = [{ epoch: 0, loss: NaN, ...start, seconds: 0 }];
  opts.onEpoch?.(history[0]);
  let best = { epoch: 0, f1: start.f1, params: params.slice() };
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    const order = shuffle(data.train.length, rnd);
    let lossSum = 0;
    for (let s = 0; s < order.length; s += opts.batchSize) {
      const questions = order.slice(s, s + opts.batchSize).map((i) => data.train[i]);
      lossSum += spanLossAndGradient(params, H, d, assembleBatch(data, questions, buffer), { grad, scale: 1 / questions.length });
      adam.step(params, grad);
      opts.onProgress?.(Math.min(s + opts.batchSize, order.length), order.length);
    }
    const report: EpochReport = { epoch, loss: lossSum / order.length, ...validate(data, params, d, opts.maxPhraseTokens), seconds: (performance.now() - t0) / 1000 };
    history.push(report);
    opts.onEpoch?.(report);
    // Without validation questions there is nothing to select on: the last epoch is kept.
    if (data.validation.length === 0 || report.f1 > best.f1) best = { epoch, f1: report.f1, params: params.slice() };
    else if (epoch - best.epoch >= opts.patience) break;
  }
  return { params: best.params, history, bestEpoch: best.epoch };
}
