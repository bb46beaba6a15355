import { describe, expect, it } from 'vitest';
import { gaussian, normalizeRows, unitRows } from '../../index/test-helpers.ts';
import { syntheticCorpus, flatten } from '../store/test-helpers.ts';
import { CodecError, CodecParams, ResidualCodec, defaultCentroidCount, trainCodec } from './index.ts';

/** Mean squared error and mean cosine of decode(encode(x)) against x (unit rows). */
function roundTrip(codec: ResidualCodec, x: Float32Array) {
  const dim = codec.dim;
  const enc = codec.encode(x);
  const dec = codec.decode(enc.codes, enc.residuals);
  let se = 0;
  let cos = 0;
  let worstCos = 1;
  for (let o = 0; o < x.length; o += dim) {
    let c = 0;
    for (let k = 0; k < dim; k++) {
      se += (x[o + k] - dec[o + k]) ** 2;
      c += x[o + k] * dec[o + k];
    }
    cos += c;
    worstCos = Math.min(worstCos, c);
  }
  const n = x.length / dim;
  return { mse: se / n, cos: cos / n, worstCos, dec };
}

/** Tokens of a clustered synthetic corpus (closer to real token vectors than noise), split in two. */
function clusteredTokens(docs: number, testDocs: number, dim: number, seed: number): [Float32Array, Float32Array] {
  const c = syntheticCorpus({ kind: 'clustered', docs: docs + testDocs, dim, seed, queries: 0 });
  return [flatten(c.passages.slice(0, docs), dim).data, flatten(c.passages.slice(docs), dim).data];
}

describe('trainCodec', () => {
  const dim = 64;
  // ≈ 10,500 sample vectors (quantiles from a held-out 5 %), ≈ 2,000 unseen ones from the same topics.
  const [sample, test] = clusteredTokens(150, 30, dim, 1);

  it('round trip error shrinks with more bits (1 > 2 > 4), decoded rows are unit length', async () => {
    const results: Record<number, ReturnType<typeof roundTrip>> = {};
    for (const bits of [1, 2, 4] as const) {
      const codec = await trainCodec(sample, dim, { bits, centroids: 256, seed: 3 });
      expect(codec.bits).toBe(bits);
      expect(codec.centroidCount).toBe(256);
      expect(codec.training?.heldOut).toBe(true);
      expect(codec.training?.quantilePoints).toBe(Math.floor((sample.length / dim) * 0.05));
      results[bits] = roundTrip(codec, test);
      const { dec } = results[bits];
      for (let o = 0; o < dec.length; o += dim * 97) {
        let s = 0;
        for (let k = 0; k < dim; k++) s += dec[o + k] ** 2;
        expect(Math.sqrt(s)).toBeCloseTo(1, 5);
      }
    }
    expect(results[2].mse).toBeLessThan(results[1].mse);
    expect(results[4].mse).toBeLessThan(results[2].mse);
    // Tolerances (64-d clustered unit vectors, 256 centroids, unseen vectors): mean cosine to the
    // original. Measured: 1 bit 0.946 (mse 0.108), 2 bits 0.979 (0.042), 4 bits 0.996 (0.007).
    expect(results[1].cos).toBeGreaterThan(0.93);
    expect(results[2].cos).toBeGreaterThan(0.97);
    expect(results[4].cos).toBeGreaterThan(0.99);
    expect(results[2].worstCos).toBeGreaterThan(0.9);
  });

  it('default centroid count: ColBERTv2 rule 2^floor(log2(16·sqrt(tokens))), capped at points / 8', async () => {
    expect(defaultCentroidCount(1_000_000, 1e9)).toBe(8192);
    expect(defaultCentroidCount(20_000, 1e9)).toBe(2048);
    expect(defaultCentroidCount(20_000, 4000)).toBe(500);
    expect(defaultCentroidCount(1, 3)).toBe(1);
    const small = unitRows(400, 16, 4);
    const codec = await trainCodec(small, 16, { seed: 1 });
    expect(codec.centroidCount).toBe(50); // rule: 2^floor(log2(16·20)) = 256, cap 400 / 8
    expect(codec.training).toMatchObject({ sample: 400, kmeansPoints: 400, quantilePoints: 400, heldOut: false, tokens: 400 });
    expect((await trainCodec(small, 16, { seed: 1, tokens: 10 })).centroidCount).toBe(32); // 16·sqrt(10) = 50.6
  });

  it('per-dimension quantiles beat pooled ones on anisotropic data', async () => {
    // Dimensions with very different spreads (as raw, unprojected token features have).
    const n = 4000;
    const d = 32;
    const g = gaussian(n, d, 5);
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) g[i * d + k] *= k < 4 ? 6 : 0.5;
    const x = normalizeRows(g, d);
    const per = await trainCodec(x, d, { bits: 2, centroids: 64, seed: 1 });
    const pooled = await trainCodec(x, d, { bits: 2, centroids: 64, seed: 1, quantiles: 'global' });
    expect(pooled.quantiles).toBe('global');
    expect(roundTrip(per, x).mse).toBeLessThan(roundTrip(pooled, x).mse);
  });

  it('params() round-trips through JSON and CodecParams', async () => {
    const codec = await trainCodec(unitRows(800, 12, 6), 12, { bits: 4, centroids: 20 });
    const json = JSON.parse(JSON.stringify(codec.params()));
    const back = ResidualCodec.fromParams(CodecParams.parse(json), codec.centroids);
    expect(Array.from(back.cutoffs)).toEqual(Array.from(codec.cutoffs));
    expect(Array.from(back.weights)).toEqual(Array.from(codec.weights));
    expect(back.training).toEqual(codec.training);
    const x = unitRows(30, 12, 7);
    expect(Array.from(back.encode(x).residuals)).toEqual(Array.from(codec.encode(x).residuals));
    expect(codec.bytesPerToken).toBe(4 + 6);
    expect(() => ResidualCodec.fromParams(json, new Float32Array(5))).toThrow(/20 centroids of dim 12/);
    expect(() => CodecParams.parse({ ...json, weights: json.weights.slice(1) })).toThrow(/dim × 2\^bits/);
  });

  it('rejects bad input with CodecError', async () => {
    const x = unitRows(100, 8, 1);
    await expect(trainCodec(x, 8, { bits: 3 as 2 })).rejects.toThrow(/bits must be 1, 2 or 4, got 3/);
    await expect(trainCodec(x, 7)).rejects.toThrow(/not a positive multiple of dim 7/);
    await expect(trainCodec(new Float32Array(0), 8)).rejects.toBeInstanceOf(CodecError);
    await expect(trainCodec(x, 8, { centroids: 101 })).rejects.toThrow(/101 centroids need at least as many k-means points, the sample gives 100/);
    const bad = x.slice();
    bad[17] = Number.NaN;
    await expect(trainCodec(bad, 8)).rejects.toThrow(/value 17 \(row 2\) is not finite/);
    const codec = await trainCodec(x, 8, { centroids: 4 });
    expect(() => codec.encode(new Float32Array(9))).toThrow(/not a multiple of the codec's dim 8/);
    expect(() => codec.decode(new Uint32Array(2), new Uint8Array(3))).toThrow(/2 codes need 4 residual bytes, got 3/);
    expect(() => new ResidualCodec({ ...codec, bits: 3 as 2 })).toThrow(CodecError);
  });
});
