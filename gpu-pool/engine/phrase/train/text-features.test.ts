import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../colbert/train/index.ts';
import { fromCachedRows, toCachedRows } from './text-features.ts';

describe('raw features in the normalised feature cache', () => {
  it('keeps rows at unit length and gets the raw rows back, within float16 precision after rounding', () => {
    const rnd = seededRandom(5);
    const H = 16;
    // Norms from 0 (an all-zero row) to the thousands, as raw token features may have.
    const scales = [0, 0.01, 1, 60, 270, 5000];
    const x = new Float32Array(scales.length * H);
    scales.forEach((s, r) => {
      for (let k = 0; k < H; k++) x[r * H + k] = (rnd() - 0.5) * s;
    });
    const u = toCachedRows(x, scales.length, H);
    for (let r = 0; r < scales.length; r++) expect(Math.hypot(...u.subarray(r * (H + 1), (r + 1) * (H + 1)))).toBeCloseTo(1, 6);
    expect(Array.from(fromCachedRows(u, scales.length, H)).map((v, i) => v - x[i]).every((e, i) => Math.abs(e) <= 1e-5 * (1 + Math.abs(x[i])))).toBe(true);
    // Through float16, as the cache stores them: each row keeps its direction and its norm to ~1e-3.
    const half = new Float32Array(u.length);
    u.forEach((v, i) => {
      // Round to 11 significant bits (float16's precision for normal values).
      const e = Math.floor(Math.log2(Math.abs(v) || 1));
      half[i] = v === 0 ? 0 : Math.round(v / 2 ** (e - 10)) * 2 ** (e - 10);
    });
    const back = fromCachedRows(half, scales.length, H);
    scales.forEach((s, r) => {
      const a = x.subarray(r * H, (r + 1) * H);
      const b = back.subarray(r * H, (r + 1) * H);
      const n = Math.hypot(...a);
      if (n === 0) expect(Math.hypot(...b)).toBe(0);
      else expect(Math.hypot(...a.map((v, k) => v - b[k])) / n, `row of scale ${s}`).toBeLessThan(2e-3);
    });
  });
});
