import { describe, expect, it } from 'vitest';
import { FaissError, kmeans } from './index.ts';
import { gaussian, normalizeRows, rng } from './test-helpers.ts';

/** n points around k well-separated centres (spread 0.05 per coordinate). */
function blobs(k: number, perBlob: number, d: number, seed: number) {
  const centres = gaussian(k, d, seed);
  const noise = gaussian(k * perBlob, d, seed + 1);
  const x = new Float32Array(k * perBlob * d);
  for (let i = 0; i < k * perBlob; i++) {
    const c = i % k;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[c * d + j] + 0.05 * noise[i * d + j];
  }
  return { centres, x };
}

function nearestDist2(p: Float32Array, off: number, set: Float32Array, d: number): number {
  let best = Infinity;
  for (let o = 0; o < set.length; o += d) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (p[off + j] - set[o + j]) ** 2;
    best = Math.min(best, s);
  }
  return best;
}

describe('kmeans', () => {
  // Two blobs: Lloyd's iterations recover both from any initial pair (with more, a random
  // initialisation may leave two centroids in one blob, which faiss does not repair).
  it('finds well-separated clusters (every true centre has a centroid within the noise)', async () => {
    const d = 16;
    const k = 2;
    const { centres, x } = blobs(k, 200, d, 3);
    const { centroids, objective } = await kmeans(x, d, k, { seed: 7, niter: 25 });
    expect(centroids).toBeInstanceOf(Float32Array);
    expect(centroids.length).toBe(k * d);
    expect(objective).toBeGreaterThan(0);
    // Centre-to-centroid distance: the blob mean's error (0.05 / sqrt(200) per coordinate) is tiny.
    for (let c = 0; c < k; c++) expect(nearestDist2(centres, c * d, centroids, d)).toBeLessThan(0.01);
  });

  it('spherical + inner product gives unit centroids, and the same seed gives the same centroids', async () => {
    const d = 32;
    const x = normalizeRows(gaussian(2000, d, 5), d);
    const a = await kmeans(x, d, 16, { seed: 1, spherical: true, metric: 'ip' });
    const b = await kmeans(x, d, 16, { seed: 1, spherical: true, metric: 'ip' });
    expect(Array.from(a.centroids)).toEqual(Array.from(b.centroids));
    for (let c = 0; c < 16; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += a.centroids[c * d + j] ** 2;
      expect(Math.sqrt(s)).toBeCloseTo(1, 5);
    }
  });

  it('more iterations never end worse (L2 objective)', async () => {
    const d = 8;
    const r = rng(9);
    const x = Float32Array.from({ length: 3000 * d }, () => r());
    const one = await kmeans(x, d, 32, { seed: 2, niter: 1 });
    const many = await kmeans(x, d, 32, { seed: 2, niter: 20 });
    expect(many.objective).toBeLessThanOrEqual(one.objective);
  });

  it('rejects bad arguments with ERR_INVALID_ARG naming them', async () => {
    const x = new Float32Array(40);
    await expect(kmeans(x, 8, 6)).rejects.toThrow(/at least k = 6 points, got 5/);
    await expect(kmeans(x, 7, 2)).rejects.toThrow(/not a multiple of d 7/);
    await expect(kmeans(x, 8, 2, { niter: 0 })).rejects.toThrow(/niter/);
    await expect(kmeans(x, 8, 2, { metric: 'cos' as 'ip' })).rejects.toThrow(/metric/);
    await expect(kmeans([1, 2] as unknown as Float32Array, 1, 1)).rejects.toBeInstanceOf(FaissError);
    await expect(kmeans(x, 8, 0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG' });
  });
});
