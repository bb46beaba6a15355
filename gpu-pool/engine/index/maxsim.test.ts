import { describe, expect, it } from 'vitest';
import { FaissError, maxSim } from './index.ts';
import { loadNative } from './native.ts';
import { gaussian, rng } from './test-helpers.ts';

/** Plain reference: double loops in float64, empty passage = 0. */
function reference(q: Float32Array, dim: number, d: Float32Array, off: Uint32Array) {
  const nq = q.length / dim;
  const ndocs = off.length - 1;
  const score = new Float64Array(ndocs);
  // Σ_i max_t Σ_k |q_ik d_tk|: the magnitude of what gets summed, the scale of float rounding.
  const scale = new Float64Array(ndocs);
  for (let j = 0; j < ndocs; j++) {
    if (off[j] === off[j + 1]) continue;
    for (let i = 0; i < nq; i++) {
      let best = -Infinity;
      let bestAbs = 0;
      for (let t = off[j]; t < off[j + 1]; t++) {
        let s = 0;
        let a = 0;
        for (let k = 0; k < dim; k++) {
          const p = q[i * dim + k] * d[t * dim + k];
          s += p;
          a += Math.abs(p);
        }
        if (s > best) best = s;
        if (a > bestAbs) bestAbs = a;
      }
      score[j] += best;
      scale[j] += bestAbs;
    }
  }
  return { score, scale };
}

/** Passage lengths → offsets. */
function offsets(lengths: number[]): Uint32Array {
  const off = new Uint32Array(lengths.length + 1);
  for (let j = 0; j < lengths.length; j++) off[j + 1] = off[j] + lengths[j];
  return off;
}

/**
 * Tolerance: relative 1e-5 of the scale Σ_i max_t Σ_k |q_ik d_tk| (≥ |score|). BLAS sums
 * each dot product in float32 in its own order (blocking, FMA), the reference in float64.
 */
const REL = 1e-5;

function check(nq: number, dim: number, lengths: number[], seed: number) {
  const off = offsets(lengths);
  const ntok = off[off.length - 1];
  const q = gaussian(nq, dim, seed);
  const d = gaussian(ntok, dim, seed + 1);
  const got = maxSim(q, dim, d, off);
  const { score, scale } = reference(q, dim, d, off);
  expect(got).toBeInstanceOf(Float32Array);
  expect(got.length).toBe(lengths.length);
  let worst = 0;
  for (let j = 0; j < lengths.length; j++) {
    if (lengths[j] === 0) {
      expect(got[j]).toBe(0);
      continue;
    }
    const rel = Math.abs(got[j] - score[j]) / Math.max(scale[j], 1e-30);
    worst = Math.max(worst, rel);
  }
  expect(worst).toBeLessThan(REL);
}

describe('maxSim: native equals a plain reference', () => {
  const shapes: { name: string; nq: number; dim: number; lengths: (r: () => number) => number[] }[] = [];
  let caseNo = 0;
  for (const dim of [1, 7, 128, 512]) {
    for (const nq of [1, 5, 32]) {
      // 1..100 passages of 0..300 tokens, about 1 in 8 empty; big ones exceed the 4096-row block.
      const ndocs = dim >= 512 ? 1 + ((caseNo * 37) % 30) : 1 + ((caseNo * 37) % 100);
      shapes.push({
        name: `nq=${nq} dim=${dim} ndocs=${ndocs}`,
        nq,
        dim,
        lengths: (r) => Array.from({ length: ndocs }, () => (r() < 0.125 ? 0 : Math.floor(r() * 301))),
      });
      caseNo++;
    }
  }
  shapes.push({ name: 'single passage', nq: 32, dim: 128, lengths: () => [180] });
  shapes.push({ name: 'single passage of one token', nq: 3, dim: 7, lengths: () => [1] });
  shapes.push({ name: 'single empty passage', nq: 4, dim: 7, lengths: () => [0] });
  shapes.push({ name: 'all passages empty', nq: 4, dim: 7, lengths: () => [0, 0, 0] });
  shapes.push({ name: 'empty passages first, last, and in runs', nq: 6, dim: 16, lengths: () => [0, 0, 5, 0, 0, 0, 300, 1, 0] });
  // One passage straddling several 4096-row blocks.
  shapes.push({ name: 'passage straddling blocks', nq: 8, dim: 7, lengths: () => [10, 9000, 3, 0, 4096, 1] });
  // nq large enough that the block shrinks below 4096 rows (score matrix capped at 4 Mi floats).
  shapes.push({ name: 'many query tokens (smaller blocks)', nq: 1500, dim: 7, lengths: () => [2000, 0, 700, 2] });
  shapes.push({ name: 'no passages', nq: 3, dim: 7, lengths: () => [] });

  shapes.forEach((s, i) => {
    it(s.name, () => {
      check(s.nq, s.dim, s.lengths(rng(1000 + i)), 17 + i * 11);
    });
  });

  it('an empty query scores every passage 0', () => {
    const got = maxSim(new Float32Array(0), 4, gaussian(5, 4, 1), offsets([2, 0, 3]));
    expect(Array.from(got)).toEqual([0, 0, 0]);
  });

  it('a hand-checked example', () => {
    // q0 = (1,0), q1 = (0,1); passage 1 = {(1,2), (3,-1)} → 3 + 2; passage 2 = {(0.5,0.5)} → 1.
    const got = maxSim(new Float32Array([1, 0, 0, 1]), 2, new Float32Array([1, 2, 3, -1, 0.5, 0.5]), new Uint32Array([0, 0, 2, 3]));
    expect(Array.from(got)).toEqual([0, 5, 1]);
  });
});

describe('maxSim: bad arguments are refused, naming the argument', () => {
  const q = new Float32Array(8); // 2 x 4
  const d = new Float32Array(12); // 3 x 4
  const off = new Uint32Array([0, 1, 3]);
  const cases: { what: string; args: unknown[]; name: string; type: 'TypeError' | 'RangeError' }[] = [
    { what: 'queries not a Float32Array', args: [new Float64Array(8), 4, d, off], name: 'queries', type: 'TypeError' },
    { what: 'queries missing', args: [undefined, 4, d, off], name: 'queries', type: 'TypeError' },
    { what: 'dim not a number', args: [q, '4', d, off], name: 'dim', type: 'TypeError' },
    { what: 'dim 0', args: [q, 0, d, off], name: 'dim', type: 'RangeError' },
    { what: 'dim negative', args: [q, -4, d, off], name: 'dim', type: 'RangeError' },
    { what: 'dim too large', args: [q, 65537, d, off], name: 'dim', type: 'RangeError' },
    { what: 'dim not an integer', args: [q, 2.5, d, off], name: 'dim', type: 'RangeError' },
    { what: 'dim NaN', args: [q, NaN, d, off], name: 'dim', type: 'RangeError' },
    { what: 'docTokens not a Float32Array', args: [q, 4, Array.from(d), off], name: 'docTokens', type: 'TypeError' },
    { what: 'docOffsets not a Uint32Array (Int32Array)', args: [q, 4, d, new Int32Array([0, 1, 3])], name: 'docOffsets', type: 'TypeError' },
    { what: 'docOffsets a plain array', args: [q, 4, d, [0, 1, 3]], name: 'docOffsets', type: 'TypeError' },
    { what: 'queries length not a multiple of dim', args: [new Float32Array(7), 4, d, off], name: 'queries', type: 'RangeError' },
    { what: 'docTokens length not a multiple of dim', args: [q, 4, new Float32Array(13), off], name: 'docTokens', type: 'RangeError' },
    { what: 'docOffsets empty', args: [q, 4, d, new Uint32Array(0)], name: 'docOffsets', type: 'RangeError' },
    { what: 'docOffsets not starting at 0', args: [q, 4, d, new Uint32Array([1, 3])], name: 'docOffsets', type: 'RangeError' },
    { what: 'docOffsets decreasing', args: [q, 4, d, new Uint32Array([0, 2, 1, 3])], name: 'docOffsets', type: 'RangeError' },
    { what: 'docOffsets ending before ntok', args: [q, 4, d, new Uint32Array([0, 1, 2])], name: 'docOffsets', type: 'RangeError' },
    { what: 'docOffsets ending after ntok', args: [q, 4, d, new Uint32Array([0, 1, 4])], name: 'docOffsets', type: 'RangeError' },
    { what: 'docOffsets [0] with tokens present', args: [q, 4, d, new Uint32Array([0])], name: 'docOffsets', type: 'RangeError' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const native = loadNative() as unknown as { maxSim: (...a: unknown[]) => Float32Array };
      let raw: unknown;
      try {
        native.maxSim(...c.args);
      } catch (err) {
        raw = err;
      }
      expect(raw).toBeInstanceOf(Error);
      expect((raw as Error).name).toBe(c.type);
      expect((raw as { code?: string }).code).toBe('ERR_INVALID_ARG');
      expect((raw as Error).message).toContain(c.name);

      let wrapped: unknown;
      try {
        (maxSim as (...a: unknown[]) => Float32Array)(...c.args);
      } catch (err) {
        wrapped = err;
      }
      expect(wrapped).toBeInstanceOf(FaissError);
      expect((wrapped as FaissError).code).toBe('ERR_INVALID_ARG');
      expect((wrapped as FaissError).message).toContain(`maxSim: ${c.name}`);
    });
  }
});

describe('maxSim: reranking-sized batch', () => {
  it('100 candidates x 180 tokens x 128 dim, 32 query tokens', () => {
    const dim = 128;
    const q = gaussian(32, dim, 5);
    const off = offsets(Array.from({ length: 100 }, () => 180));
    const d = gaussian(100 * 180, dim, 6);
    maxSim(q, dim, d, off); // warm-up
    const runs = 20;
    const t0 = performance.now();
    let got: Float32Array = new Float32Array(0);
    for (let r = 0; r < runs; r++) got = maxSim(q, dim, d, off);
    const ms = (performance.now() - t0) / runs;
    console.log(`maxSim 100 x 180 x ${dim}, nq=32: ${ms.toFixed(2)} ms per call (mean of ${runs})`);
    expect(got.length).toBe(100);
    expect(got.every(Number.isFinite)).toBe(true);
  });
});
