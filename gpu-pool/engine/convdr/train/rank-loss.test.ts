import { describe, expect, it } from 'vitest';
import { gaussian, seededRandom } from '../../colbert/train/init.ts';
import { initialAdapter, normalizeRows } from '../model/index.ts';
import { batchGradient, fitAdapter, rankingLoss, type KdData } from './fit.ts';
import { rankLossAndGradient, type RankRow } from './rank-loss.ts';

const unitRows = (rows: number, d: number, g: () => number) => normalizeRows(Float32Array.from({ length: rows * d }, g), d);

describe('rankLossAndGradient', () => {
  it('matches finite differences through the L2 normalisation (several positives, a temperature)', () => {
    const d = 7;
    const g = gaussian(seededRandom(11));
    const row: RankRow = { positives: unitRows(2, d, g), negatives: unitRows(5, d, g) };
    for (const temperature of [1, 0.2]) {
      // An unnormalised output, far from unit length: the normalisation's Jacobian matters.
      const u = Float64Array.from({ length: d }, () => 1.7 * g());
      const { loss, grad } = rankLossAndGradient(u, row, temperature);
      expect(loss).toBeGreaterThan(0);
      const h = 1e-6;
      for (let j = 0; j < d; j++) {
        const plus = u.slice();
        const minus = u.slice();
        plus[j] += h;
        minus[j] -= h;
        const fd = (rankLossAndGradient(plus, row, temperature).loss - rankLossAndGradient(minus, row, temperature).loss) / (2 * h);
        expect(grad[j]).toBeCloseTo(fd, 6);
      }
      // Scaling u changes nothing: the gradient is orthogonal to u.
      expect(grad.reduce((s, v, j) => s + v * u[j], 0)).toBeCloseTo(0, 10);
      expect(rankLossAndGradient(u.map((v) => 3 * v), row, temperature).loss).toBeCloseTo(loss, 10);
    }
  });

  it('is the mean over positives of −log softmax of the positive, and log(1 + N) when every score ties', () => {
    const d = 4;
    const e = (i: number) => Float32Array.from({ length: d }, (_, j) => (j === i ? 1 : 0));
    // s = e0: the positive scores 1, the negatives (orthogonal) 0.
    const row: RankRow = { positives: e(0), negatives: new Float32Array([...e(1), ...e(2)]) };
    expect(rankLossAndGradient([2, 0, 0, 0], row).loss).toBeCloseTo(-Math.log(Math.E / (Math.E + 2)), 10);
    expect(rankLossAndGradient([0, 0, 0, 5], row).loss).toBeCloseTo(Math.log(3), 10);
    const two: RankRow = { positives: new Float32Array([...e(0), ...e(3)]), negatives: row.negatives };
    expect(rankLossAndGradient([2, 0, 0, 0], two).loss).toBeCloseTo((-Math.log(Math.E / (Math.E + 2)) + Math.log(3)) / 2, 10);
  });
});

/** Synthetic turns: a KD target and, for some rows, documents to rank. */
function synthetic(rows: number, d: number, seed: number): KdData {
  const g = gaussian(seededRandom(seed));
  const x = unitRows(rows * 3, d, g);
  const t = unitRows(rows, d, g);
  const rank = Array.from({ length: rows }, (_, r) => (r % 3 === 2 ? undefined : { positives: unitRows(1 + (r % 2), d, g), negatives: unitRows(6, d, g) }));
  return { x, t, rows, rank };
}

describe('batchGradient', () => {
  it('matches finite differences of the whole batch loss (KD + weighted ranking term + weight decay) in W and b', () => {
    const d = 5;
    const data = synthetic(9, d, 3);
    const init = initialAdapter(3, d, 'mean');
    const g = gaussian(seededRandom(5));
    const W = init.weight.map((w) => w + 0.3 * g());
    const b = Float32Array.from({ length: d }, () => 0.2 * g());
    const idx = [0, 1, 2, 4, 5, 7, 8];
    const opts = { weightDecay: 0.05, rankWeight: 1.5, rankTemperature: 0.5 };
    const grad = new Float32Array(W.length + d);
    const base = batchGradient(W, b, init.weight, data, idx, opts, grad);
    expect(base.total).toBeGreaterThan(base.data);
    const scratch = new Float32Array(W.length + d);
    const h = 1e-2;
    const check = (m: Float32Array, i: number, analytic: number) => {
      const keep = m[i];
      m[i] = keep + h;
      const plus = batchGradient(W, b, init.weight, data, idx, opts, scratch).total;
      m[i] = keep - h;
      const minus = batchGradient(W, b, init.weight, data, idx, opts, scratch).total;
      m[i] = keep;
      const fd = (plus - minus) / (2 * h);
      expect(Math.abs(analytic - fd)).toBeLessThan(2e-3 + 1e-2 * Math.abs(fd));
    };
    for (const i of [0, 3, 7, 18, 26, 40, 52, 74]) check(W, i, grad[i]);
    for (let j = 0; j < d; j++) check(b, j, grad[W.length + j]);
    // The ranking term is in the gradient: without it the bias gradient differs.
    const kdOnly = new Float32Array(W.length + d);
    batchGradient(W, b, init.weight, data, idx, { ...opts, rankWeight: 0 }, kdOnly);
    expect(Math.max(...Array.from({ length: d }, (_, j) => Math.abs(kdOnly[W.length + j] - grad[W.length + j])))).toBeGreaterThan(1e-3);
  });
});

describe('fitAdapter with a ranking loss', () => {
  it('lowers the ranking loss of the training turns below knowledge distillation alone (same seed)', () => {
    const d = 12;
    const data = synthetic(60, d, 8);
    const opts = { lr: 1e-2, weightDecay: 1e-3, epochs: 30, patience: 30, batch: 16, seed: 2 };
    const init = initialAdapter(3, d, 'mean');
    const kd = fitAdapter(init, data, undefined, opts);
    const both = fitAdapter(init, data, undefined, { ...opts, rankWeight: 1 });
    expect(rankingLoss(both.adapter, data)).toBeLessThan(rankingLoss(kd.adapter, data) - 0.05);
    // Rows without ranking data: rankingLoss ignores them; no ranking data at all: NaN.
    expect(rankingLoss(init, { ...data, rank: undefined })).toBeNaN();
  });
});
