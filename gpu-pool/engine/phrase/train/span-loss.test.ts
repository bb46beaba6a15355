import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../colbert/train/index.ts';
import { headViews, spanLossAndGradient, type SpanBatch } from './span-loss.ts';

/** An independent float64 reference: logits by their definition, −log of the gold mass, halved per side. */
function referenceLoss(p: Float64Array, H: number, d: number, b: SpanBatch): number {
  const at = (m: number, r: number, c: number) => p[m * H * d + r * d + c];
  const vec = (x: ArrayLike<number>, o: number, m: number) => Array.from({ length: d }, (_, c) => {
    let s = 0;
    for (let k = 0; k < H; k++) s += x[o + k] * at(m, k, c);
    return s;
  });
  let loss = 0;
  for (let q = 0; q < b.B; q++) {
    for (const [side, golds] of [[0, b.starts[q]], [1, b.ends[q]]] as const) {
      const qv = vec(b.M, q * H, 2 + side);
      const l = Array.from({ length: b.T }, (_, t) => vec(b.X, t * H, side).reduce((s, v, c) => s + v * qv[c], 0));
      const z = l.reduce((s, v) => s + Math.exp(v), 0);
      const g = [...new Set(golds)].reduce((s, t) => s + Math.exp(l[t]), 0);
      loss += 0.5 * (Math.log(z) - Math.log(g));
    }
  }
  return loss;
}

function problem(seed: number) {
  const rnd = seededRandom(seed);
  const H = 6, d = 3, T = 9, B = 3;
  const r = (scale: number) => () => (rnd() - 0.5) * 2 * scale;
  const batch: SpanBatch = {
    X: Float32Array.from({ length: T * H }, r(1.5)),
    T,
    M: Float32Array.from({ length: B * H }, r(1.5)),
    B,
    // Several golds (one repeated), as marginalised answers give.
    starts: [[0], [3, 4, 3], [8]],
    ends: [[2], [5], [6, 7]],
  };
  const params = Float32Array.from({ length: 4 * H * d }, r(0.8));
  return { H, d, batch, params };
}

describe('span loss', () => {
  it('matches an independent float64 computation, and its gradient matches finite differences', () => {
    for (const seed of [1, 2]) {
      const { H, d, batch, params } = problem(seed);
      const grad = new Float32Array(params.length);
      const loss = spanLossAndGradient(params, H, d, batch, { grad, scale: 1 });
      const p64 = Float64Array.from(params);
      expect(loss).toBeCloseTo(referenceLoss(p64, H, d, batch), 4);
      const eps = 1e-4;
      let err = 0;
      let norm = 0;
      for (let i = 0; i < params.length; i++) {
        const plus = Float64Array.from(p64);
        const minus = Float64Array.from(p64);
        plus[i] += eps;
        minus[i] -= eps;
        const fd = (referenceLoss(plus, H, d, batch) - referenceLoss(minus, H, d, batch)) / (2 * eps);
        err += (fd - grad[i]) ** 2;
        norm += fd * fd;
      }
      expect(Math.sqrt(err / norm)).toBeLessThan(1e-4);
    }
  });

  it('scales the gradient, leaves the loss alone, and names a gold outside the batch', () => {
    const { H, d, batch, params } = problem(3);
    const g1 = new Float32Array(params.length);
    const g2 = new Float32Array(params.length);
    const l1 = spanLossAndGradient(params, H, d, batch, { grad: g1, scale: 1 });
    const l2 = spanLossAndGradient(params, H, d, batch, { grad: g2, scale: 0.25 });
    expect(l2).toBe(l1);
    for (let i = 0; i < g1.length; i++) expect(g2[i]).toBeCloseTo(g1[i] * 0.25, 6);
    expect(spanLossAndGradient(params, H, d, batch)).toBe(l1);
    expect(() => spanLossAndGradient(params, H, d, { ...batch, ends: [[2], [5], [9]] })).toThrow(/gold token 9 outside the batch's 9 tokens/);
    expect(headViews(params, H, d).queryEnd.length).toBe(H * d);
  });
});
