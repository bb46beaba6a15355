// Starting points for the projection W (F × dim): a seeded random matrix with orthonormal columns,
// or the top principal directions of the token features (orthonormal too). Both have columns of
// unit length, so entries are ~1/√F: the scale Adam's learning rate is tuned against. (The scale
// of W does not change any score: projected rows are normalised.)
import { matmul } from '../../index/index.ts';
import type { FeatureSet } from './features.ts';

/** A seeded uniform generator on [0, 1) (mulberry32): the same seed, the same sequence, everywhere. */
export function seededRandom(seed: number): () => number {
  let a = (Math.imul(seed | 0, 2654435761) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform generator (Box–Muller). */
/** A permutation of 0..n-1 drawn from `rnd` (Fisher–Yates). */
export function shuffle(n: number, rnd: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export function gaussian(rnd: () => number): () => number {
  return () => {
    const u = rnd() || Number.MIN_VALUE;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  };
}

/** Orthonormalise the columns of `m` (rows × cols, row-major) in place, modified Gram–Schmidt in float64. */
export function orthonormalizeColumns(m: Float32Array, rows: number, cols: number): Float32Array {
  const col = Array.from({ length: cols }, (_, c) => Float64Array.from({ length: rows }, (_, r) => m[r * cols + c]));
  for (let c = 0; c < cols; c++) {
    const v = col[c];
    for (let pass = 0; pass < 2; pass++) {
      for (let b = 0; b < c; b++) {
        const u = col[b];
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += u[r] * v[r];
        for (let r = 0; r < rows; r++) v[r] -= dot * u[r];
      }
    }
    let n = 0;
    for (let r = 0; r < rows; r++) n += v[r] * v[r];
    n = Math.sqrt(n);
    if (n < 1e-12) throw new RangeError(`orthonormalize: column ${c} is (nearly) dependent on the ones before`);
    for (let r = 0; r < rows; r++) v[r] /= n;
  }
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) m[r * cols + c] = col[c][r];
  return m;
}

/** A random F × dim matrix with orthonormal columns (dim ≤ F), from `seed`. */
export function randomProjection(F: number, dim: number, seed: number): Float32Array {
  if (dim > F) throw new RangeError(`cannot project ${F}-d features to ${dim} orthonormal directions; --dim must be ≤ ${F}`);
  const g = gaussian(seededRandom(seed));
  return orthonormalizeColumns(Float32Array.from({ length: F * dim }, g), F, dim);
}

/**
 * The `dim` directions along which the token features vary most (eigenvectors of their uncentred
 * second-moment matrix, top first), as F × dim with orthonormal columns: projecting onto them keeps
 * as much of every token vector as `dim` directions can, so MaxSim starts close to the identity's.
 * Estimated from at most `sampleRows` rows spread evenly over `items` of `features`, by orthogonal
 * iteration from a seeded random start.
 */
export function principalProjection(features: FeatureSet, items: readonly number[], dim: number, opts: { seed: number; sampleRows?: number; iterations?: number }): Float32Array {
  const F = features.dim;
  if (dim > F) throw new RangeError(`cannot take ${dim} principal directions of ${F}-d features; --dim must be ≤ ${F}`);
  const total = items.reduce((n, i) => n + features.rows(i), 0);
  const want = Math.min(total, opts.sampleRows ?? 65_536);
  if (want === 0) throw new RangeError('no token features to take principal directions of');
  const sample = new Float32Array(want * F);
  // Every k-th row over all items, k chosen so the sample is spread over the whole list.
  const step = total / want;
  let next = 0;
  let seen = 0;
  let taken = 0;
  for (const i of items) {
    const rows = features.rows(i);
    const x = features.view(i);
    while (taken < want && Math.floor(next) < seen + rows) {
      const r = Math.floor(next) - seen;
      sample.set(x.subarray(r * F, (r + 1) * F), taken * F);
      taken++;
      next += step;
    }
    seen += rows;
  }
  const cov = matmul(sample.subarray(0, taken * F), sample.subarray(0, taken * F), F, F, taken, { transA: true });
  let V = randomProjection(F, dim, opts.seed);
  for (let it = 0; it < (opts.iterations ?? 60); it++) V = orthonormalizeColumns(matmul(cov, V, F, dim, F), F, dim);
  // Order the columns by their Rayleigh quotient (variance captured), largest first.
  const CV = matmul(cov, V, F, dim, F);
  const quotient = Array.from({ length: dim }, (_, c) => {
    let s = 0;
    for (let r = 0; r < F; r++) s += V[r * dim + c] * CV[r * dim + c];
    return s;
  });
  const order = quotient.map((_, c) => c).sort((a, b) => quotient[b] - quotient[a]);
  const out = new Float32Array(F * dim);
  for (let r = 0; r < F; r++) order.forEach((c, j) => (out[r * dim + j] = V[r * dim + c]));
  return out;
}
