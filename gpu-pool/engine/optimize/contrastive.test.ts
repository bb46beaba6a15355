import { describe, expect, it } from 'vitest';
import { FaissIndex } from '../index/index.ts';
import { unitRows } from '../index/test-helpers.ts';
import { Adam } from './adam.ts';
import { contrastiveLoss, type CandidateSet } from './contrastive.ts';

/** Central finite differences of `f` with respect to every entry of `x` at `rows`. */
function finiteDifferences(f: () => number, x: Float32Array, d: number, rows: Iterable<number>, h: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of rows) {
    for (let i = 0; i < d; i++) {
      const k = r * d + i;
      const keep = x[k];
      x[k] = keep + h;
      const up = f();
      x[k] = keep - h;
      const down = f();
      x[k] = keep;
      // The step actually taken in float32, not the nominal h.
      out.set(k, (up - down) / (Math.fround(keep + h) - Math.fround(keep - h)));
    }
  }
  return out;
}

const d = 8;
const set: CandidateSet = { rows: Int32Array.of(3, 7, 0, 5, 9, 11), positives: 2 };

describe('contrastive loss', () => {
  it('matches the multi-positive cross-entropy written out naively', () => {
    const q = unitRows(1, d, 1);
    const t = unitRows(12, d, 2);
    const tau = 0.1;
    const s = Array.from(set.rows, (r) => q.reduce((acc, qi, i) => acc + qi * t[r * d + i], 0) / tau);
    const z = s.reduce((a, x) => a + Math.exp(x), 0);
    const want = -Math.log((Math.exp(s[0]) + Math.exp(s[1])) / z);
    expect(contrastiveLoss(q, t, d, set, { temperature: tau })).toBeCloseTo(want, 10);
  });

  it('gradient agrees with finite differences, and touches only candidate rows', () => {
    for (const tau of [1, 0.1]) {
      const q = unitRows(1, d, 3);
      const t = unitRows(12, d, 4);
      const grad = new Float32Array(t.length);
      contrastiveLoss(q, t, d, set, { temperature: tau }, grad, 1);
      const fd = finiteDifferences(() => contrastiveLoss(q, t, d, set, { temperature: tau }), t, d, set.rows, 1e-3);
      for (const [k, want] of fd) expect(Math.abs(grad[k] - want)).toBeLessThan(2e-3 * Math.max(1, Math.abs(want)));
      const touched = new Set(set.rows);
      for (let r = 0; r < 12; r++) {
        if (!touched.has(r)) expect(Array.from(grad.subarray(r * d, (r + 1) * d)).every((g) => g === 0)).toBe(true);
      }
      // Positives are pulled towards the query, negatives pushed away.
      const along = (r: number) => q.reduce((a, qi, i) => a + qi * grad[r * d + i], 0);
      expect(along(3)).toBeLessThan(0);
      expect(along(5)).toBeGreaterThan(0);
    }
  });

  it('on a real PQ index: the straight-through gradient is the gradient at the quantized targets', async () => {
    const targets = unitRows(12, d, 5);
    const index = FaissIndex.create(d, 'PQ2x4', 'ip');
    await index.train(unitRows(1024, d, 6));
    await index.add(targets);
    const quantized = index.reconstructBatch(Array.from({ length: 12 }, (_, i) => i));
    index.dispose();
    const q = unitRows(1, d, 7);
    const opts = { temperature: 0.2 };
    // Quantization changes what is trained: the loss on the codes is not the float loss.
    expect(Math.abs(contrastiveLoss(q, quantized, d, set, opts) - contrastiveLoss(q, targets, d, set, opts))).toBeGreaterThan(1e-3);
    const grad = new Float32Array(quantized.length);
    contrastiveLoss(q, quantized, d, set, opts, grad, 1);
    const fd = finiteDifferences(() => contrastiveLoss(q, quantized, d, set, opts), quantized, d, set.rows, 1e-3);
    for (const [k, want] of fd) expect(Math.abs(grad[k] - want)).toBeLessThan(2e-3 * Math.max(1, Math.abs(want)));
  });

  it('rejects bad input with what was wrong', () => {
    const q = unitRows(1, d, 1);
    const t = unitRows(4, d, 2);
    expect(() => contrastiveLoss(q, t, d, { rows: Int32Array.of(0, 9), positives: 1 })).toThrow(/candidate row 9 out of range \[0, 4\)/);
    expect(() => contrastiveLoss(q, t, d, { rows: Int32Array.of(0, 1), positives: 0 })).toThrow(/positives must be in \[1, 2\]/);
    expect(() => contrastiveLoss(q.subarray(1), t, d, { rows: Int32Array.of(0), positives: 1 })).toThrow(/7 components, expected 8/);
  });
});

describe('Adam', () => {
  it('with lr 0 leaves the targets bit-identical', () => {
    const t = unitRows(12, d, 8);
    const before = t.slice();
    const adam = new Adam(t.length, { lr: 0 });
    const q = unitRows(1, d, 9);
    for (let step = 0; step < 5; step++) {
      const grad = new Float32Array(t.length);
      contrastiveLoss(q, t, d, set, {}, grad, 1);
      adam.step(t, grad);
    }
    expect(Buffer.from(t.buffer).equals(Buffer.from(before.buffer))).toBe(true);
  });

  it('lowers the loss and moves only rows that got a gradient', () => {
    const t = unitRows(12, d, 10);
    const before = t.slice();
    const q = unitRows(1, d, 11);
    const adam = new Adam(t.length, { lr: 0.01 });
    const first = contrastiveLoss(q, t, d, set, { temperature: 0.1 });
    for (let step = 0; step < 50; step++) {
      const grad = new Float32Array(t.length);
      contrastiveLoss(q, t, d, set, { temperature: 0.1 }, grad, 1);
      adam.step(t, grad);
    }
    expect(contrastiveLoss(q, t, d, set, { temperature: 0.1 })).toBeLessThan(first * 0.5);
    for (const r of [1, 2, 4, 6, 8, 10]) expect(Array.from(t.subarray(r * d, (r + 1) * d))).toEqual(Array.from(before.subarray(r * d, (r + 1) * d)));
    expect(() => new Adam(4, { lr: -1 })).toThrow(/lr must be/);
  });
});
