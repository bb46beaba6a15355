// The synthetic corpus bench:scale grows: vector i is SciFact window vector (i mod 29,441) plus
// Gaussian noise of relative norm SIGMA, re-normalised. Each real vector becomes a cloud of
// near-copies (cosine ≈ 0.89 to its parent), so neighbourhoods keep the real vectors' layout
// (topics, overlapping windows of one document) while the corpus grows; vector i does not depend
// on the corpus size, so the 100k corpus is a prefix of the 1M one.
import { readFile } from 'node:fs/promises';
import { rng } from '../../gpu-pool/engine/index/test-helpers.ts';

export const SIGMA = 0.5;

export interface Parents {
  n: number;
  d: number;
  rows: Float32Array;
}

export async function readParents(file: string, d: number): Promise<Parents> {
  const buf = await readFile(file);
  const rows = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return { n: rows.length / d, d, rows };
}

// Drawing 512 normals per row costs ~30 µs, 5 minutes per 10M rows; instead every row reads its
// noise from one fixed table of standard normals at an offset hashed from its row number. Windows
// at different offsets of i.i.d. noise are uncorrelated.
const NOISE_FLOATS = 1 << 22;
let noiseTable: Float32Array | undefined;
function noise(): Float32Array {
  if (noiseTable) return noiseTable;
  const rand = rng(0x5eed);
  noiseTable = new Float32Array(NOISE_FLOATS);
  for (let i = 0; i < NOISE_FLOATS; i += 2) {
    const m = Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12)));
    const t = 2 * Math.PI * rand();
    noiseTable[i] = m * Math.cos(t);
    noiseTable[i + 1] = m * Math.sin(t);
  }
  return noiseTable;
}

function offsetOf(row: number, d: number): number {
  let z = Math.imul(row ^ 0x9e3779b9, 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return ((z ^ (z >>> 16)) >>> 0) % (NOISE_FLOATS - d);
}

/** Rows [from, from + count) of the synthetic corpus, written into out (count x d). */
export function syntheticRows(p: Parents, from: number, count: number, out: Float32Array = new Float32Array(count * p.d)): Float32Array {
  const { d } = p;
  const scale = SIGMA / Math.sqrt(d);
  const table = noise();
  for (let r = 0; r < count; r++) {
    const i = from + r;
    const parent = (i % p.n) * d;
    const off = offsetOf(i, d);
    const o = r * d;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const v = p.rows[parent + j] + scale * table[off + j];
      out[o + j] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < d; j++) out[o + j] *= inv;
  }
  return out;
}
