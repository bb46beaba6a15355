import { describe, expect, it } from 'vitest';
import { FaissIndex } from '../index/index.ts';
import { gaussian } from '../index/test-helpers.ts';
import { quantizeWith } from './quantize.ts';

describe('quantizeWith', () => {
  for (const key of ['IVF8,PQ4x4', 'OPQ4,IVF8,PQ4x4np', 'PQ4x4']) {
    it(`${key}: gives what the index stores for the same vectors, and leaves the index as it was`, async () => {
      const d = 16;
      const index = FaissIndex.create(d, key, 'ip');
      await index.train(gaussian(2048, d, 1));
      const stored = gaussian(50, d, 2);
      await index.add(stored);
      const ids = Array.from({ length: 50 }, (_, i) => i);
      const want = index.reconstructBatch(ids);

      const got = await quantizeWith(index, stored);
      expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
      // Quantization is lossy: the reconstructions are not the floats.
      expect(got.some((x, i) => Math.abs(x - stored[i]) > 1e-3)).toBe(true);
      expect(index.ntotal).toBe(50);
      expect(Buffer.from(index.reconstructBatch(ids).buffer).equals(Buffer.from(want.buffer))).toBe(true);

      if (key === 'PQ4x4') {
        // Plain PQ: a codeword's nearest codeword is itself, so re-encoding a reconstruction keeps it.
        const again = await quantizeWith(index, got);
        let maxDiff = 0;
        for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(again[i] - got[i]));
        expect(maxDiff).toBeLessThan(1e-5);
      }
      index.dispose();
    });
  }

  it('refuses vectors of the wrong dimension', async () => {
    const index = FaissIndex.create(4, 'Flat', 'ip');
    await expect(quantizeWith(index, new Float32Array(6))).rejects.toThrow(/6 floats, not a multiple of the index dimension 4/);
    index.dispose();
  });
});
