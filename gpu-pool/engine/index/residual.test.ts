import { describe, expect, it } from 'vitest';
import {
  FaissError,
  assignCentroids,
  maxSim,
  maxSimResidual,
  plaidCandidates,
  residualBytes,
  residualDecode,
  residualEncode,
  type ResidualBits,
  type ResidualCodecArrays,
} from './index.ts';
import { gaussian, normalizeRows, rng, unitRows } from './test-helpers.ts';

/** A codec with random unit centroids and random ascending cutoffs / weights per dimension. */
function randomCodec(dim: number, bits: ResidualBits, k: number, seed: number): ResidualCodecArrays {
  const r = rng(seed);
  const nb = 1 << bits;
  const cutoffs = new Float32Array(dim * (nb - 1));
  const weights = new Float32Array(dim * nb);
  for (let d = 0; d < dim; d++) {
    const c = Array.from({ length: nb - 1 }, () => (r() - 0.5) * 0.4).sort((a, b) => a - b);
    cutoffs.set(c, d * (nb - 1));
    const w = Array.from({ length: nb }, () => (r() - 0.5) * 0.4).sort((a, b) => a - b);
    weights.set(w, d * nb);
  }
  return { dim, bits, centroids: unitRows(k, dim, seed + 1), cutoffs, weights };
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
  return s;
}

/** The format, written out plainly: argmax code, bucket = cutoffs below the residual, LSB-first packing. */
function referenceEncode(x: Float32Array, c: ResidualCodecArrays) {
  const { dim, bits } = c;
  const k = c.centroids.length / dim;
  const n = x.length / dim;
  const nb = 1 << bits;
  const per = 8 / bits;
  const rb = residualBytes(dim, bits);
  const codes = new Uint32Array(n);
  const residuals = new Uint8Array(n * rb);
  for (let t = 0; t < n; t++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (dot(x, t * dim, c.centroids, j * dim, dim) > dot(x, t * dim, c.centroids, best * dim, dim)) best = j;
    codes[t] = best;
    for (let d = 0; d < dim; d++) {
      const r = Math.fround(x[t * dim + d] - c.centroids[best * dim + d]);
      let b = 0;
      for (let j = 0; j < nb - 1; j++) if (r > c.cutoffs[d * (nb - 1) + j]) b++;
      residuals[t * rb + Math.floor(d / per)] |= b << ((d % per) * bits);
    }
  }
  return { codes, residuals };
}

function referenceDecode(codes: Uint32Array, residuals: Uint8Array, c: ResidualCodecArrays): Float64Array {
  const { dim, bits } = c;
  const nb = 1 << bits;
  const per = 8 / bits;
  const rb = residualBytes(dim, bits);
  const out = new Float64Array(codes.length * dim);
  for (let t = 0; t < codes.length; t++) {
    let ss = 0;
    for (let d = 0; d < dim; d++) {
      const b = (residuals[t * rb + Math.floor(d / per)] >> ((d % per) * bits)) & (nb - 1);
      const v = c.centroids[codes[t] * dim + d] + c.weights[d * nb + b];
      out[t * dim + d] = v;
      ss += v * v;
    }
    for (let d = 0; d < dim; d++) out[t * dim + d] /= Math.sqrt(ss);
  }
  return out;
}

function offsetsOf(lengths: number[]): Uint32Array {
  const off = new Uint32Array(lengths.length + 1);
  lengths.forEach((l, j) => (off[j + 1] = off[j] + l));
  return off;
}

describe('residual codec natives', () => {
  for (const bits of [1, 2, 4] as const) {
    for (const dim of [13, 64]) {
      it(`encode/decode follow the format (bits ${bits}, dim ${dim}, padding bits when dim·bits % 8 ≠ 0)`, () => {
        const c = randomCodec(dim, bits, 7, 10 * bits + dim);
        const x = unitRows(50, dim, 3);
        const got = residualEncode(x, c);
        const ref = referenceEncode(x, c);
        expect(Array.from(got.codes)).toEqual(Array.from(ref.codes));
        expect(Array.from(got.residuals)).toEqual(Array.from(ref.residuals));
        expect(got.residuals.length).toBe(50 * residualBytes(dim, bits));
        const dec = residualDecode(c, got.codes, got.residuals);
        const want = referenceDecode(got.codes, got.residuals, c);
        for (let i = 0; i < dec.length; i++) expect(Math.abs(dec[i] - want[i])).toBeLessThan(1e-6);
      });
    }
  }

  it('assignCentroids picks the largest inner product (OpenMP blocks agree with a plain loop)', () => {
    const dim = 24;
    const cent = unitRows(300, dim, 4);
    const x = unitRows(3000, dim, 5);
    const got = assignCentroids(x, dim, cent);
    for (let t = 0; t < 3000; t += 37) {
      let best = 0;
      for (let j = 1; j < 300; j++) if (dot(x, t * dim, cent, j * dim, dim) > dot(x, t * dim, cent, best * dim, dim)) best = j;
      expect(got[t]).toBe(best);
    }
  });

  it('maxSimResidual equals maxSim over the decoded tokens (passages in any order, repeated, empty)', () => {
    const dim = 48;
    const c = randomCodec(dim, 2, 16, 8);
    const lengths = [5, 0, 40, 1, 4500, 7, 0, 33];  // 4500 > one scratch block of 4096 rows
    const off = offsetsOf(lengths);
    const x = unitRows(off[lengths.length], dim, 9);
    const enc = residualEncode(x, c);
    const dec = residualDecode(c, enc.codes, enc.residuals);
    const q = unitRows(11, dim, 10);
    const ordinals = Uint32Array.from([4, 2, 1, 0, 7, 2, 6, 3, 5]);
    const got = maxSimResidual(q, c, { ...enc, docOffsets: off }, ordinals);
    const all = maxSim(q, dim, dec, off);
    expect(got.length).toBe(ordinals.length);
    // Same dot products, scaled by 1/norm after instead of before the sgemm: float rounding only.
    ordinals.forEach((d, j) => expect(Math.abs(got[j] - all[d])).toBeLessThan(1e-5 * 11));
    expect(got[2]).toBe(0);
    expect(got[6]).toBe(0);
    expect(Array.from(maxSimResidual(new Float32Array(0), c, { ...enc, docOffsets: off }, ordinals))).toEqual(new Array(9).fill(0));
    expect(maxSimResidual(q, c, { ...enc, docOffsets: off }, new Uint32Array(0)).length).toBe(0);
  });

  it('plaidCandidates: probed centroids, united lists, centroid-only MaxSim, best first', () => {
    const dim = 16;
    const k = 40;
    const c = randomCodec(dim, 2, k, 12);
    const r = rng(13);
    const lengths = Array.from({ length: 60 }, () => Math.floor(r() * 12));
    const off = offsetsOf(lengths);
    const x = unitRows(off[60], dim, 14);
    const enc = residualEncode(x, c);
    // IVF: centroid → passages (ascending, once each).
    const lists: number[][] = Array.from({ length: k }, () => []);
    for (let d = 0; d < 60; d++) for (let t = off[d]; t < off[d + 1]; t++) if (!lists[enc.codes[t]].includes(d)) lists[enc.codes[t]].push(d);
    const ivfOffsets = offsetsOf(lists.map((l) => l.length));
    const ivfDocs = Uint32Array.from(lists.flat());
    const q = unitRows(5, dim, 15);
    const nprobe = 3;
    // Reference.
    const S = (ci: number, i: number) => dot(c.centroids, ci * dim, q, i * dim, dim);
    const probed = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const order = Array.from({ length: k }, (_, j) => j).sort((a, b) => S(b, i) - S(a, i));
      order.slice(0, nprobe).forEach((j) => probed.add(j));
    }
    const cands = [...new Set([...probed].flatMap((j) => lists[j]))];
    const approx = new Map(cands.map((d) => {
      let s = 0;
      for (let i = 0; i < 5; i++) {
        let m = -Infinity;
        for (let t = off[d]; t < off[d + 1]; t++) m = Math.max(m, S(enc.codes[t], i));
        s += m;
      }
      return [d, s];
    }));
    const want = cands.sort((a, b) => approx.get(b)! - approx.get(a)! || a - b);
    const got = plaidCandidates(q, c, { codes: enc.codes, docOffsets: off }, { ivfOffsets, ivfDocs }, { nprobe, limit: 10 });
    expect(Array.from(got.ordinals)).toEqual(want.slice(0, 10));
    got.scores.forEach((s, j) => expect(Math.abs(s - approx.get(want[j])!)).toBeLessThan(1e-5));
    // Everything reachable when the limit allows; nothing for an empty query or limit 0.
    const wide = plaidCandidates(q, c, { codes: enc.codes, docOffsets: off }, { ivfOffsets, ivfDocs }, { nprobe, limit: 1000 });
    expect(Array.from(wide.ordinals)).toEqual(want);
    expect(plaidCandidates(new Float32Array(0), c, { codes: enc.codes, docOffsets: off }, { ivfOffsets, ivfDocs }, { nprobe, limit: 10 }).ordinals.length).toBe(0);
    expect(plaidCandidates(q, c, { codes: enc.codes, docOffsets: off }, { ivfOffsets, ivfDocs }, { nprobe, limit: 0 }).ordinals.length).toBe(0);
    // Pruning with a threshold below every score changes nothing; above every score, the pruned
    // pass ranks all passages 0 and keeps the lowest ordinals, which the full pass then re-ranks.
    const low = plaidCandidates(q, c, { codes: enc.codes, docOffsets: off }, { ivfOffsets, ivfDocs }, { nprobe, limit: 10, threshold: -10 });
    expect(Array.from(low.ordinals)).toEqual(want.slice(0, 10));
    const high = plaidCandidates(q, c, { codes: enc.codes, docOffsets: off }, { ivfOffsets, ivfDocs }, { nprobe, limit: 3, threshold: 10, pruneKeep: 5 });
    const kept = [...cands].sort((a, b) => a - b).slice(0, 5);
    expect(Array.from(high.ordinals)).toEqual(kept.sort((a, b) => approx.get(b)! - approx.get(a)! || a - b).slice(0, 3));
  });

  it('rejects bad arguments before reading out of bounds', () => {
    const dim = 8;
    const c = randomCodec(dim, 2, 4, 1);
    const x = normalizeRows(gaussian(6, dim, 2), dim);
    const enc = residualEncode(x, c);
    const off = Uint32Array.from([0, 2, 6]);
    const q = unitRows(2, dim, 3);
    const err = (f: () => unknown, msg: RegExp) => {
      let e: unknown;
      try {
        f();
      } catch (caught) {
        e = caught;
      }
      expect(e).toBeInstanceOf(FaissError);
      expect((e as FaissError).code).toBe('ERR_INVALID_ARG');
      expect((e as Error).message).toMatch(msg);
    };
    err(() => maxSimResidual(q, c, { ...enc, docOffsets: off }, Uint32Array.from([2])), /ordinal 2 is out of range \(2 passages\)/);
    err(() => maxSimResidual(q, { ...c, bits: 3 as ResidualBits }, { ...enc, docOffsets: off }, Uint32Array.from([0])), /bits must be 1, 2 or 4/);
    err(() => maxSimResidual(unitRows(2, 7, 1), c, { ...enc, docOffsets: off }, Uint32Array.from([0])), /queries length 14 is not a multiple of dim 8/);
    err(() => maxSimResidual(q, c, { ...enc, residuals: enc.residuals.subarray(1), docOffsets: off }, Uint32Array.from([0])), /residuals length/);
    err(() => maxSimResidual(q, c, { ...enc, docOffsets: Uint32Array.from([0, 2, 5]) }, Uint32Array.from([0])), /end at codes.length/);
    err(() => maxSimResidual(q, c, { ...enc, codes: Uint32Array.from([0, 9, 0, 0, 0, 0]), docOffsets: off }, Uint32Array.from([0])), /codes\[1\] = 9 is not a centroid id/);
    err(() => residualDecode({ ...c, weights: new Float32Array(3) }, enc.codes, enc.residuals), /weights length 3/);
    err(() => residualEncode(x, { ...c, cutoffs: new Float32Array(3) }), /cutoffs length 3/);
    err(() => assignCentroids(x, dim, new Float32Array(0)), /centroids length 0/);
    const ivf = { ivfOffsets: Uint32Array.from([0, 1, 1, 1, 1]), ivfDocs: Uint32Array.from([5]) };
    err(() => plaidCandidates(q, c, { codes: enc.codes, docOffsets: off }, ivf, { nprobe: 4, limit: 3 }), /ivfDocs\[0\] = 5 is not a passage ordinal/);
    err(() => plaidCandidates(q, c, { codes: enc.codes, docOffsets: off }, { ...ivf, ivfOffsets: new Uint32Array(2) }, { nprobe: 1, limit: 3 }), /ivfOffsets length 2/);
  });
});
