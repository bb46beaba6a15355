// Fitting the adapter by knowledge distillation: the student's output u = x·W + b (x the view
// vectors side by side) is pulled toward the teacher's vector t of the manual rewrite by ConvDR's
// MSE loss, mean over turns of ||u − t||², plus weightDecay·||W − W₀||² (a pull toward the identity
// initialisation, so a few hundred turns cannot drag the map far from "encode the conversation").
// Adam over seeded mini-batches; the epoch with the best validation teacher agreement (mean cosine
// of the normalised output with t) is kept (early stopping with patience).
//
// ConvDR's multi-task variant adds, for the turns that have ranking data (a corpus and qrels),
// rankWeight · CE: the softmax cross-entropy of the scores s·e / temperature of the normalised
// student vector s = u/||u|| against [one positive, the turn's negatives], averaged over the turn's
// positives (every positive every step: deterministic, no sampling). Turns without ranking data
// add 0, so a batch's loss is (1/B) Σ_i (||u_i − t_i||² + rankWeight · CE_i). The gradient goes
// through the normalisation: ∂L/∂u = (g − s (s·g)) / ||u|| for g = ∂L/∂s (rank-loss.ts).
import { seededRandom, shuffle } from '../../colbert/train/index.ts';
import { matmul } from '../../index/index.ts';
import { Adam } from '../../optimize/index.ts';
import { applyAdapter, normalizeRows, type Adapter } from '../model/index.ts';
import { meanRankLoss, rankLossAndGradient, type RankRow } from './rank-loss.ts';

/** Rows of features and their teacher vectors. */
export interface KdData {
  /** rows × inputDimension. */
  x: Float32Array;
  /** rows × dimension (unit length). */
  t: Float32Array;
  rows: number;
  /** Per row, its ranking data (positives and negatives), or undefined: that row has only the KD term. */
  rank?: readonly (RankRow | undefined)[];
}

export interface FitOptions {
  lr: number;
  weightDecay: number;
  /** Most epochs. */
  epochs: number;
  /** Epochs without a better validation agreement before stopping (with validation data). */
  patience: number;
  batch: number;
  seed: number;
  /** Weight of the ranking loss (rows with `rank` data); 0 or absent: knowledge distillation only. */
  rankWeight?: number;
  /** Divides the ranking scores before the softmax (default 1). */
  rankTemperature?: number;
}

export interface FitResult {
  adapter: Adapter;
  /** The epoch kept (0: the initialisation). */
  epoch: number;
  /** Epochs run. */
  epochsRun: number;
  /** Validation agreement of the kept epoch (NaN without validation data). */
  validation: number;
  /** Training loss of the last epoch (data term: KD plus the weighted ranking term). */
  loss: number;
}

/** Rows `idx` of an n × width matrix. */
export function pickRows(m: Float32Array, width: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * width);
  idx.forEach((r, i) => out.set(m.subarray(r * width, (r + 1) * width), i * width));
  return out;
}

/** Per-row cosine between the normalised student output and the teacher. */
export function agreements(adapter: Adapter, data: KdData): Float64Array {
  const d = adapter.dimension;
  const s = normalizeRows(applyAdapter(adapter, data.x, data.rows), d);
  const out = new Float64Array(data.rows);
  for (let r = 0; r < data.rows; r++) {
    let c = 0;
    for (let j = 0; j < d; j++) c += s[r * d + j] * data.t[r * d + j];
    out[r] = c;
  }
  return out;
}

export const mean = (v: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return v.length ? s / v.length : NaN;
};

const copyAdapter = (a: Adapter): Adapter => ({ ...a, weight: a.weight.slice(), bias: a.bias.slice() });

/**
 * One mini-batch's loss and gradient (written into `grad`: W's entries, then b's) at weights W, b:
 * data = (1/B) Σ_i (||x_i·W + b − t_i||² + rankWeight · CE_i), plus weightDecay·||W − W0||² (in
 * `total`). Exported for the finite-difference check.
 */
export function batchGradient(W: Float32Array, b: Float32Array, W0: Float32Array, train: KdData, idx: readonly number[], opts: Pick<FitOptions, 'weightDecay' | 'rankWeight' | 'rankTemperature'>, grad: Float32Array): { data: number; total: number } {
  const d = b.length;
  const F = W.length / d;
  const nW = W.length;
  const B = idx.length;
  const rankWeight = opts.rankWeight ?? 0;
  const temperature = opts.rankTemperature ?? 1;
  const xb = pickRows(train.x, F, idx);
  const u = matmul(xb, W, B, d, F);
  // g = ∂data/∂u per row: 2/B (u + b − t), plus rankWeight/B · ∂CE/∂u for rows with ranking data.
  const g = new Float32Array(B * d);
  grad.fill(0);
  let lossSum = 0;
  const ub = new Float64Array(d);
  for (let i = 0; i < B; i++) {
    const r = idx[i];
    for (let j = 0; j < d; j++) {
      ub[j] = u[i * d + j] + b[j];
      const e = ub[j] - train.t[r * d + j];
      lossSum += e * e;
      g[i * d + j] = (2 / B) * e;
    }
    const rank = rankWeight > 0 ? train.rank?.[r] : undefined;
    if (rank) {
      const rl = rankLossAndGradient(ub, rank, temperature);
      lossSum += rankWeight * rl.loss;
      for (let j = 0; j < d; j++) g[i * d + j] += (rankWeight / B) * rl.grad[j];
    }
    for (let j = 0; j < d; j++) grad[nW + j] += g[i * d + j];
  }
  const gw = matmul(xb, g, F, d, B, { transA: true });
  const wd = 2 * opts.weightDecay;
  let decay = 0;
  for (let i = 0; i < nW; i++) {
    const diff = W[i] - W0[i];
    decay += diff * diff;
    grad[i] = gw[i] + wd * diff;
  }
  const data = lossSum / B;
  return { data, total: data + opts.weightDecay * decay };
}

/** Trains from `init` (kept unchanged); `validation` drives early stopping when given. */
export function fitAdapter(init: Adapter, train: KdData, validation: KdData | undefined, opts: FitOptions, onEpoch?: (epoch: number, loss: number, validation: number) => void): FitResult {
  const { inputDimension: F, dimension: d } = init;
  const nW = F * d;
  const params = new Float32Array(nW + d);
  params.set(init.weight, 0);
  params.set(init.bias, nW);
  const W = params.subarray(0, nW);
  const b = params.subarray(nW);
  const adam = new Adam(params.length, { lr: opts.lr });
  const grad = new Float32Array(params.length);
  const rnd = seededRandom(opts.seed);
  const current = (): Adapter => ({ inputDimension: F, dimension: d, weight: W, bias: b });
  let best = { adapter: copyAdapter(init), epoch: 0, validation: validation ? mean(agreements(init, validation)) : NaN };
  let loss = NaN;
  let epoch = 0;
  let stale = 0;
  for (epoch = 1; epoch <= opts.epochs; epoch++) {
    const order = shuffle(train.rows, rnd);
    let lossSum = 0;
    for (let s = 0; s < order.length; s += opts.batch) {
      const idx = order.slice(s, s + opts.batch);
      const B = idx.length;
      lossSum += batchGradient(W, b, init.weight, train, idx, opts, grad).data * B;
      adam.step(params, grad);
    }
    loss = lossSum / train.rows;
    const v = validation ? mean(agreements(current(), validation)) : NaN;
    onEpoch?.(epoch, loss, v);
    if (!validation) continue;
    if (v > best.validation) {
      best = { adapter: copyAdapter(current()), epoch, validation: v };
      stale = 0;
    } else if (++stale >= opts.patience) break;
  }
  const epochsRun = Math.min(epoch, opts.epochs);
  if (!validation) return { adapter: copyAdapter(current()), epoch: epochsRun, epochsRun, validation: NaN, loss };
  return { adapter: best.adapter, epoch: best.epoch, epochsRun, validation: best.validation, loss };
}

/** Mean ranking loss (CE, rank-loss.ts) of the adapter over the rows of `data` that have ranking data (NaN when none has). */
export function rankingLoss(adapter: Adapter, data: KdData, temperature = 1): number {
  if (!data.rank) return NaN;
  return meanRankLoss(applyAdapter(adapter, data.x, data.rows), data.rank, adapter.dimension, temperature);
}
