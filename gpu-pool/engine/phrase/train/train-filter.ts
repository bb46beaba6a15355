// DensePhrases' phrase filter, trained on the frozen token features that train the heads: per
// token a start logit z_s = x · f_s + b_s and an end logit z_e = x · f_e + b_e (x the unit-scale
// feature, feature-scale.ts), each a binary logistic regression:
//
//   start: the tokens a phrase may start at (canStart) of a paragraph; positives the gold start
//          tokens of the paragraph's questions (every answer mapped as for the heads), negatives
//          every other canStart token. The same for the ends over canEnd tokens.
//   loss = ½ (L_start + L_end),  L = Σ_t c_t BCE(σ(z_t), y_t) / Σ_t c_t  over a batch's tokens,
//          c_t = w₊ for a positive, 1 for a negative, w₊ = negatives / positives of the training
//          paragraphs (balanced classes: σ = 0.5 is where a token is as likely a gold as not, after
//          the prior is divided out, so thresholds 0.1 … 0.5 span keeping most to keeping few).
//
// Only candidates are scored: the build applies the filter to canStart tokens only, and easy
// negatives (word pieces, punctuation) would take the linear score's capacity for nothing.
// Adam over seeded batches of paragraphs; early stopping on the validation loss (same weights);
// the best epoch's filter kept. No I/O here. The heads are not touched.
import { seededRandom, shuffle, type FeatureSet } from '../../colbert/train/index.ts';
import { matmul } from '../../index/index.ts';
import { Adam } from '../../optimize/index.ts';
import { sigmoid, type TokenBoundaries } from '../model/index.ts';

/** Thresholds the validation figures are given at (the start likelihood a token needs to be indexed). */
export const FILTER_THRESHOLDS: readonly number[] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7];

/** A paragraph and its gold tokens (distinct, over all its questions' answers). */
export interface FilterParagraph {
  paragraph: number;
  starts: readonly number[];
  ends: readonly number[];
}

export interface FilterData {
  /** Feature dimension. */
  H: number;
  /** Token features per paragraph, at unit scale. */
  paragraphs: FeatureSet;
  boundaries: readonly TokenBoundaries[];
  train: readonly FilterParagraph[];
  validation: readonly FilterParagraph[];
  /** Gold start tokens of each validation question (its paragraph's rows), for the question-level recall. */
  validationQuestions: readonly { paragraph: number; starts: readonly number[] }[];
}

/** Weight of a positive (gold) token, per side: negatives / positives among the training candidates. */
export interface FilterPositiveWeights {
  start: number;
  end: number;
}

export interface FilterEpochReport {
  epoch: number;
  /** Mean of the epoch's batch losses (NaN for epoch 0, the starting point). */
  loss: number;
  /** Loss over the validation paragraphs, the positive weights of training (NaN without validation). */
  validationLoss: number;
  seconds: number;
}

export interface FilterTrainOptions {
  epochs: number;
  lr: number;
  /** Paragraphs per Adam step. */
  batchSize: number;
  seed: number;
  /** Epochs without a lower validation loss before stopping. */
  patience: number;
  onEpoch?: (report: FilterEpochReport) => void;
}

export interface FilterTrainResult {
  /** f_s (H), b_s, f_e (H), b_e: the file's layout, for unit-scale features. */
  params: Float32Array;
  history: FilterEpochReport[];
  bestEpoch: number;
  positiveWeights: FilterPositiveWeights;
  /** Candidates and gold tokens of the training paragraphs. */
  counts: { paragraphs: number; startCandidates: number; goldStarts: number; endCandidates: number; goldEnds: number };
}

/** At one threshold, over the validation paragraphs. */
export interface FilterThresholdFigures {
  threshold: number;
  /** canStart tokens with start likelihood ≥ threshold, of all canStart tokens (what the start index keeps). */
  kept: number;
  /** Gold start tokens kept, of all (distinct per paragraph). */
  startRecall: number;
  /** Questions with at least one gold start kept, of those with a gold start. */
  questionRecall: number;
  /** The same for the end likelihood over canEnd tokens (not applied by the build). */
  endKept: number;
  endRecall: number;
}

/** The filter's parameter views (file order). */
export function filterViews(params: Float32Array, H: number) {
  if (params.length !== 2 * (H + 1)) throw new RangeError(`phrase filter: ${params.length} weights are not 2 × (${H} + 1)`);
  return { start: params.subarray(0, H), startBias: H, end: params.subarray(H + 1, 2 * H + 1), endBias: 2 * H + 1 };
}

/** log(1 + e^z), stable. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function goldMask(n: number, gold: readonly number[]): Uint8Array {
  const m = new Uint8Array(n);
  for (const g of gold) {
    if (!(g >= 0 && g < n)) throw new RangeError(`phrase filter: gold token ${g} outside the paragraph's ${n} tokens`);
    m[g] = 1;
  }
  return m;
}

/** Negatives / positives among the candidates of these paragraphs, per side. */
export function positiveWeights(data: FilterData, paragraphs: readonly FilterParagraph[]): FilterPositiveWeights & { counts: FilterTrainResult['counts'] } {
  let sc = 0;
  let sp = 0;
  let ec = 0;
  let ep = 0;
  for (const p of paragraphs) {
    const b = data.boundaries[p.paragraph];
    const gs = goldMask(b.canStart.length, p.starts);
    const ge = goldMask(b.canEnd.length, p.ends);
    for (let t = 0; t < b.canStart.length; t++) {
      if (b.canStart[t]) {
        sc++;
        sp += gs[t];
      } else if (gs[t]) throw new RangeError(`phrase filter: gold start ${t} of paragraph ${p.paragraph} is not a canStart token`);
      if (b.canEnd[t]) {
        ec++;
        ep += ge[t];
      } else if (ge[t]) throw new RangeError(`phrase filter: gold end ${t} of paragraph ${p.paragraph} is not a canEnd token`);
    }
  }
  return {
    start: sp > 0 ? (sc - sp) / sp : 1,
    end: ep > 0 ? (ec - ep) / ep : 1,
    counts: { paragraphs: paragraphs.length, startCandidates: sc, goldStarts: sp, endCandidates: ec, goldEnds: ep },
  };
}

/** The batch's tokens one after another (a reused buffer). */
function stack(data: FilterData, batch: readonly FilterParagraph[], buffer: { X: Float32Array }): { X: Float32Array; T: number } {
  const { H } = data;
  let T = 0;
  for (const p of batch) T += data.paragraphs.rows(p.paragraph);
  if (buffer.X.length < T * H) buffer.X = new Float32Array(T * H);
  const X = buffer.X.subarray(0, T * H);
  let at = 0;
  for (const p of batch) {
    X.set(data.paragraphs.view(p.paragraph), at * H);
    at += data.paragraphs.rows(p.paragraph);
  }
  return { X, T };
}

/**
 * ½ (L_start + L_end) over these paragraphs (weighted means, see the top); with `grad`
 * (2 (H + 1), overwritten) its gradient.
 */
export function filterLossAndGradient(
  params: Float32Array,
  data: FilterData,
  batch: readonly FilterParagraph[],
  weights: FilterPositiveWeights,
  opts: { grad?: Float32Array; buffer?: { X: Float32Array } } = {},
): number {
  const { H } = data;
  const v = filterViews(params, H);
  const { X, T } = stack(data, batch, opts.buffer ?? { X: new Float32Array(0) });
  const zs = T > 0 ? matmul(X, v.start, T, 1, H) : new Float32Array(0);
  const ze = T > 0 ? matmul(X, v.end, T, 1, H) : new Float32Array(0);
  const bs = params[v.startBias];
  const be = params[v.endBias];
  // Per side: g_t = c_t (σ(z_t) − y_t), then divided by Σ c_t.
  const gs = new Float32Array(T);
  const ge = new Float32Array(T);
  let ls = 0;
  let cs = 0;
  let le = 0;
  let ce = 0;
  let at = 0;
  for (const p of batch) {
    const b = data.boundaries[p.paragraph];
    const n = b.canStart.length;
    if (n !== data.paragraphs.rows(p.paragraph)) throw new RangeError(`phrase filter: paragraph ${p.paragraph} has ${data.paragraphs.rows(p.paragraph)} feature rows but ${n} boundaries`);
    const ys = goldMask(n, p.starts);
    const ye = goldMask(n, p.ends);
    for (let t = 0; t < n; t++) {
      if (b.canStart[t]) {
        const z = zs[at + t] + bs;
        const c = ys[t] ? weights.start : 1;
        ls += c * (ys[t] ? softplus(-z) : softplus(z));
        cs += c;
        gs[at + t] = c * (sigmoid(z) - ys[t]);
      }
      if (b.canEnd[t]) {
        const z = ze[at + t] + be;
        const c = ye[t] ? weights.end : 1;
        le += c * (ye[t] ? softplus(-z) : softplus(z));
        ce += c;
        ge[at + t] = c * (sigmoid(z) - ye[t]);
      }
    }
    at += n;
  }
  const loss = 0.5 * ((cs > 0 ? ls / cs : 0) + (ce > 0 ? le / ce : 0));
  if (opts.grad) {
    const g = opts.grad;
    if (g.length !== params.length) throw new RangeError(`phrase filter: gradient of ${g.length}, not ${params.length}`);
    g.fill(0);
    const sides = [
      [gs, cs, 0, v.startBias],
      [ge, ce, H + 1, v.endBias],
    ] as const;
    for (const [gz, c, from, bias] of sides) {
      if (c === 0 || T === 0) continue;
      const k = 0.5 / c;
      for (let t = 0; t < T; t++) gz[t] *= k;
      g.set(matmul(gz, X, 1, H, T), from);
      let sum = 0;
      for (let t = 0; t < T; t++) sum += gz[t];
      g[bias] = sum;
    }
  }
  return loss;
}

/** Loss over all the validation paragraphs as one batch (NaN without any): ~0.2 MB per paragraph of 100 tokens. */
function validationLoss(params: Float32Array, data: FilterData, weights: FilterPositiveWeights, buffer: { X: Float32Array }): number {
  return data.validation.length === 0 ? NaN : filterLossAndGradient(params, data, data.validation, weights, { buffer });
}

export function trainFilter(data: FilterData, opts: FilterTrainOptions): FilterTrainResult {
  const { H } = data;
  if (data.train.length === 0) throw new RangeError('phrase filter: no training paragraphs');
  const { counts, ...weights } = positiveWeights(data, data.train);
  // Zero weights: every token starts at σ = 0.5; the loss is convex, so no random start is needed.
  const params = new Float32Array(2 * (H + 1));
  const rnd = seededRandom(opts.seed + 0x5f17);
  const adam = new Adam(params.length, { lr: opts.lr });
  const grad = new Float32Array(params.length);
  const buffer = { X: new Float32Array(0) };
  const history: FilterEpochReport[] = [{ epoch: 0, loss: NaN, validationLoss: validationLoss(params, data, weights, buffer), seconds: 0 }];
  opts.onEpoch?.(history[0]);
  let best = { epoch: 0, loss: history[0].validationLoss, params: params.slice() };
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    const order = shuffle(data.train.length, rnd);
    let sum = 0;
    let steps = 0;
    for (let s = 0; s < order.length; s += opts.batchSize) {
      const batch = order.slice(s, s + opts.batchSize).map((i) => data.train[i]);
      sum += filterLossAndGradient(params, data, batch, weights, { grad, buffer });
      steps++;
      adam.step(params, grad);
    }
    const report: FilterEpochReport = { epoch, loss: sum / steps, validationLoss: validationLoss(params, data, weights, buffer), seconds: (performance.now() - t0) / 1000 };
    history.push(report);
    opts.onEpoch?.(report);
    if (data.validation.length === 0 || report.validationLoss < best.loss) best = { epoch, loss: report.validationLoss, params: params.slice() };
    else if (epoch - best.epoch >= opts.patience) break;
  }
  return { params: best.params, history, bestEpoch: best.epoch, positiveWeights: weights, counts };
}

/** The start and end likelihoods of a paragraph's tokens under `params`. */
export function filterLikelihoods(data: Pick<FilterData, 'H' | 'paragraphs'>, params: Float32Array, paragraph: number): { s: Float32Array; e: Float32Array } {
  const { H } = data;
  const v = filterViews(params, H);
  const n = data.paragraphs.rows(paragraph);
  const X = data.paragraphs.view(paragraph);
  const zs = n > 0 ? matmul(X, v.start, n, 1, H) : new Float32Array(0);
  const ze = n > 0 ? matmul(X, v.end, n, 1, H) : new Float32Array(0);
  return { s: zs.map((z) => sigmoid(z + params[v.startBias])), e: ze.map((z) => sigmoid(z + params[v.endBias])) };
}

/** Kept fractions and recalls of the validation paragraphs at each threshold (NaN where nothing is counted). */
export function filterFigures(data: FilterData, params: Float32Array, thresholds: readonly number[] = FILTER_THRESHOLDS): FilterThresholdFigures[] {
  // Per validation paragraph: the start and end likelihoods of its tokens.
  const scores = new Map<number, { s: Float32Array; e: Float32Array }>();
  for (const p of data.validation) scores.set(p.paragraph, filterLikelihoods(data, params, p.paragraph));
  const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
  return thresholds.map((threshold) => {
    let sc = 0;
    let sk = 0;
    let gs = 0;
    let gsk = 0;
    let ec = 0;
    let ek = 0;
    let ge = 0;
    let gek = 0;
    for (const p of data.validation) {
      const b = data.boundaries[p.paragraph];
      const { s, e } = scores.get(p.paragraph)!;
      for (let t = 0; t < s.length; t++) {
        if (b.canStart[t]) {
          sc++;
          if (s[t] >= threshold) sk++;
        }
        if (b.canEnd[t]) {
          ec++;
          if (e[t] >= threshold) ek++;
        }
      }
      for (const g of p.starts) {
        gs++;
        if (s[g] >= threshold) gsk++;
      }
      for (const g of p.ends) {
        ge++;
        if (e[g] >= threshold) gek++;
      }
    }
    let questions = 0;
    let kept = 0;
    for (const q of data.validationQuestions) {
      if (q.starts.length === 0) continue;
      questions++;
      const s = scores.get(q.paragraph)?.s;
      if (!s) throw new RangeError(`phrase filter: validation question of paragraph ${q.paragraph}, which is not a validation paragraph`);
      if (q.starts.some((g) => s[g] >= threshold)) kept++;
    }
    return { threshold, kept: ratio(sk, sc), startRecall: ratio(gsk, gs), questionRecall: ratio(kept, questions), endKept: ratio(ek, ec), endRecall: ratio(gek, ge) };
  });
}

/** A filter trained on x/sp → one for raw features x: (x/sp) · f = x · (f/sp); biases unchanged (a new array). */
export function foldFilterScale(params: Float32Array, H: number, sp: number): Float32Array {
  const out = params.slice();
  const v = filterViews(out, H);
  for (const w of [v.start, v.end]) for (let k = 0; k < w.length; k++) w[k] /= sp;
  return out;
}
