import { describe, expect, it } from 'vitest';
import { FaissIndex } from './index.ts';
import { gaussian } from './test-helpers.ts';

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/**
 * Largest difference relative to the vector's scale. quantize rotates a batch back and reconstruct
 * one row at a time: OPQ's matrix products then run through different OpenBLAS blockings (and
 * kernels differ by CPU), which round differently in the last bits. A different code would
 * differ by the size of a PQ centroid gap, orders of magnitude above 1e-5.
 */
const relativeDiff = (a: Float32Array, b: Float32Array) => {
  const scale = Math.max(1, ...b.map(Math.abs));
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]))) / scale;
};

describe('quantize', () => {
  for (const key of ['IVF8,PQ4x4', 'OPQ4,IVF8,PQ4x4np', 'PQ4x4', 'HNSW8_PQ4np', 'IVF8,SQ8']) {
    it(`${key}: gives what the index stores for the same vectors, and leaves the index as it was`, async () => {
      const d = 16;
      const index = FaissIndex.create(d, key, 'l2');
      await index.train(gaussian(2048, d, 1));
      const stored = gaussian(50, d, 2);
      await index.add(stored);
      const ids = Array.from({ length: 50 }, (_, i) => i);
      const want = index.reconstructBatch(ids);

      const got = await index.quantize(stored);
      expect(got.length).toBe(want.length);
      expect(relativeDiff(got, want)).toBeLessThan(1e-5);
      // Quantization is lossy: the reconstructions are not the floats.
      expect(got.some((x, i) => Math.abs(x - stored[i]) > 1e-3)).toBe(true);
      expect(index.ntotal).toBe(50);
      expect(bytes(index.reconstructBatch(ids)).equals(bytes(want))).toBe(true);
      index.dispose();
    });
  }

  it('PQ: re-quantizing a reconstruction keeps it (a codeword is its own nearest codeword)', async () => {
    const index = FaissIndex.create(16, 'PQ4x4', 'ip');
    await index.train(gaussian(2048, 16, 1));
    const once = await index.quantize(gaussian(50, 16, 2));
    const again = await index.quantize(once);
    expect(again.every((x, i) => Math.abs(x - once[i]) < 1e-5)).toBe(true);
    index.dispose();
  });

  it('refuses an untrained index and vectors of the wrong dimension', async () => {
    const untrained = FaissIndex.create(16, 'IVF8,PQ4x4', 'ip');
    await expect(untrained.quantize(gaussian(2, 16, 3))).rejects.toThrow(/not trained/);
    untrained.dispose();
    const flat = FaissIndex.create(4, 'Flat', 'ip');
    await expect(flat.quantize(new Float32Array(6))).rejects.toThrow(/length 6 is not a multiple of the index dimension 4/);
    flat.dispose();
  });
});

describe('reset', () => {
  it('empties an HNSW-PQ index but keeps its training: re-adding gives the same reconstructions', async () => {
    const index = FaissIndex.create(16, 'HNSW8_PQ4np', 'l2');
    await index.train(gaussian(2048, 16, 1));
    const x = gaussian(30, 16, 2);
    await index.add(x);
    const before = index.reconstructBatch(Array.from({ length: 30 }, (_, i) => i));
    await index.reset();
    expect(index.ntotal).toBe(0);
    expect(index.isTrained).toBe(true);
    await index.add(x);
    expect(bytes(index.reconstructBatch(Array.from({ length: 30 }, (_, i) => i))).equals(bytes(before))).toBe(true);
    index.dispose();
  });
});
