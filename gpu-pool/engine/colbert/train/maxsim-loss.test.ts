import { describe, expect, it } from 'vitest';
import { maxSimLossAndGradient, type LossItem } from './maxsim-loss.ts';
import { seededRandom } from './init.ts';

/** The loss in float64, written independently of the implementation (plain loops, no sgemm). */
function referenceLoss(W: Float64Array, F: number, dim: number, items: LossItem[], tau: number): number {
  const project = (x: Float32Array, rows: number): Float64Array[] =>
    Array.from({ length: rows }, (_, r) => {
      const u = new Float64Array(dim);
      for (let k = 0; k < dim; k++) for (let f = 0; f < F; f++) u[k] += x[r * F + f] * W[f * dim + k];
      const n = Math.hypot(...u);
      return n === 0 ? u : u.map((v) => v / n);
    });
  let total = 0;
  for (const it of items) {
    const q = project(it.query, it.queryRows);
    const s = it.docs.map((d) => {
      const e = project(d.data, d.rows);
      return q.reduce((acc, qi) => acc + Math.max(...e.map((et) => et.reduce((a, v, k) => a + v * qi[k], 0))), 0);
    });
    const z = s.map((v) => v / tau);
    const m = Math.max(...z);
    total += m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0)) - z[0];
  }
  return total;
}

function randomProblem(seed: number, F: number, dim: number) {
  const rnd = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const matrix = (rows: number) => Float32Array.from({ length: rows * F }, gauss);
  const items: LossItem[] = [];
  for (let q = 0; q < 3; q++) {
    const queryRows = 2 + q;
    const docs = Array.from({ length: 4 }, (_, c) => {
      const rows = 2 + ((q + c) % 4);
      return { data: matrix(rows), rows };
    });
    items.push({ query: matrix(queryRows), queryRows, docs });
  }
  const W = Float32Array.from({ length: F * dim }, () => gauss() * 0.5);
  return { items, W };
}

describe('maxSimLossAndGradient', () => {
  it('gives the float64 reference loss and its finite-difference gradient (max error < 1e-5 of the gradient norm)', () => {
    const F = 7;
    const dim = 4;
    for (const [seed, tau] of [
      [1, 1],
      [2, 0.3],
    ] as const) {
      const { items, W } = randomProblem(seed, F, dim);
      const scale = 1 / items.length;
      const { loss, grad } = maxSimLossAndGradient(W, F, dim, items, { temperature: tau, scale });
      const W64 = Float64Array.from(W);
      expect(loss).toBeCloseTo(referenceLoss(W64, F, dim, items, tau), 4);
      // Central differences in float64, step 1e-5: the argmax tokens do not change at that scale.
      const h = 1e-5;
      const fd = new Float64Array(F * dim);
      for (let j = 0; j < fd.length; j++) {
        const plus = W64.slice();
        const minus = W64.slice();
        plus[j] += h;
        minus[j] -= h;
        fd[j] = ((referenceLoss(plus, F, dim, items, tau) - referenceLoss(minus, F, dim, items, tau)) / (2 * h)) * scale;
      }
      const norm = Math.hypot(...fd);
      expect(norm).toBeGreaterThan(1e-3);
      let diff = 0;
      for (let j = 0; j < fd.length; j++) diff = Math.max(diff, Math.abs(grad[j] - fd[j]));
      // float32 forward and sgemm against a float64 reference: measured ~5e-8 of the gradient's norm.
      expect(diff / norm).toBeLessThan(1e-5);
    }
  });

  it('is invariant to the scale of each feature row (features may be stored normalised)', () => {
    const F = 6;
    const dim = 3;
    const { items, W } = randomProblem(3, F, dim);
    const scaled: LossItem[] = items.map((it) => ({
      query: it.query.map((v, i) => v * (1 + Math.floor(i / F))),
      queryRows: it.queryRows,
      docs: it.docs.map((d) => ({ rows: d.rows, data: d.data.map((v, i) => v * 0.1 * (1 + Math.floor(i / F))) })),
    }));
    const a = maxSimLossAndGradient(W, F, dim, items, { temperature: 1, scale: 1 });
    const b = maxSimLossAndGradient(W, F, dim, scaled, { temperature: 1, scale: 1 });
    expect(b.loss).toBeCloseTo(a.loss, 4);
    for (let j = 0; j < a.grad.length; j++) expect(b.grad[j]).toBeCloseTo(a.grad[j], 4);
  });

  it('scores an empty candidate 0 and gives it no gradient rows', () => {
    const F = 4;
    const dim = 2;
    const { items, W } = randomProblem(4, F, dim);
    const withEmpty: LossItem[] = [{ ...items[0], docs: [...items[0].docs, { data: new Float32Array(0), rows: 0 }] }];
    const r = maxSimLossAndGradient(W, F, dim, withEmpty, { temperature: 1, scale: 1 });
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.grad.every(Number.isFinite)).toBe(true);
  });
});
