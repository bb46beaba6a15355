import { describe, expect, it } from 'vitest';
import { gaussian, seededRandom } from '../../colbert/train/init.ts';
import { initialAdapter, normalizeRows } from '../model/index.ts';
import { agreements, fitAdapter, mean, type KdData } from './fit.ts';

/** Teachers that are a fixed mix of the views plus noise: the adapter can learn the mix. */
function synthetic(rows: number, d: number, seed: number): KdData {
  const g = gaussian(seededRandom(seed));
  const x = normalizeRows(Float32Array.from({ length: rows * 3 * d }, g), d);
  const t = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) t[r * d + j] = 0.2 * x[(r * 3) * d + j] + 0.7 * x[(r * 3 + 1) * d + j] + 0.1 * x[(r * 3 + 2) * d + j] + 0.05 * g();
  return { x, t: normalizeRows(t, d), rows };
}

describe('fitAdapter', () => {
  it('raises held-out teacher agreement over the identity start and keeps the best epoch', () => {
    const d = 16;
    const train = synthetic(200, d, 1);
    const validation = synthetic(60, d, 2);
    const init = initialAdapter(3, d, 2);
    const before = mean(agreements(init, validation));
    const r = fitAdapter(init, train, validation, { lr: 1e-2, weightDecay: 1e-4, epochs: 60, patience: 10, batch: 32, seed: 1 });
    expect(r.validation).toBeGreaterThan(before + 0.2);
    expect(r.validation).toBeCloseTo(mean(agreements(r.adapter, validation)), 6);
    expect(r.epoch).toBeGreaterThan(0);
    // The start is left as it was.
    expect(init.weight[2 * d * d]).toBe(1);
  });

  it('is deterministic for a seed, and a strong weight decay keeps the adapter near its start', () => {
    const d = 8;
    const train = synthetic(64, d, 3);
    const opts = { lr: 1e-2, weightDecay: 0, epochs: 5, patience: 5, batch: 16, seed: 4 };
    const a = fitAdapter(initialAdapter(3, d, 'mean'), train, undefined, opts);
    const b = fitAdapter(initialAdapter(3, d, 'mean'), train, undefined, opts);
    expect(a.adapter.weight).toEqual(b.adapter.weight);
    const init = initialAdapter(3, d, 'mean');
    const strong = fitAdapter(init, train, undefined, { ...opts, weightDecay: 100, epochs: 20 });
    const dist = (w: Float32Array) => Math.sqrt(w.reduce((s, v, i) => s + (v - init.weight[i]) ** 2, 0));
    expect(dist(strong.adapter.weight)).toBeLessThan(dist(a.adapter.weight));
  });
});
