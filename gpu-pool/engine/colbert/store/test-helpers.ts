// Seeded synthetic token data for the codec and store tests: no model needed.
import type { TokenMatrix } from '../../encoders/index.ts';
import { gaussian, normalizeRows, rng } from '../../index/test-helpers.ts';

export interface SyntheticCorpus {
  dim: number;
  passages: TokenMatrix[];
  queries: TokenMatrix[];
}

function matrix(rows: number, dim: number, data: Float32Array): TokenMatrix {
  return { rows, dim, data };
}

/**
 * Passages of unit tokens and queries made from one passage each: `related` of a query's tokens
 * are noisy copies of that passage's tokens (of `targets` passages, in turn) (cosine ≈ 1 / sqrt(1 + noise²)), the rest random.
 *
 * kind 'random': passage tokens uniform on the sphere. kind 'clustered': each passage draws its
 * tokens around 3 of `topics` topic centres (spread `spread`), as real token vectors cluster by
 * word and context.
 */
export function syntheticCorpus(opts: {
  kind: 'random' | 'clustered';
  docs: number;
  dim: number;
  seed: number;
  minTokens?: number;
  maxTokens?: number;
  queries?: number;
  queryTokens?: number;
  related?: number;
  /** Passages a query is made from: its related tokens are spread evenly over them (default 1). */
  targets?: number;
  noise?: number;
  topics?: number;
  spread?: number;
}): SyntheticCorpus {
  const { kind, docs, dim, seed } = opts;
  const r = rng(seed);
  const minT = opts.minTokens ?? 20;
  const maxT = opts.maxTokens ?? 120;
  const topics = opts.topics ?? 64;
  const spread = opts.spread ?? 0.6;
  const centres = normalizeRows(gaussian(topics, dim, seed + 1), dim);
  let s = seed + 2;
  const passages: TokenMatrix[] = [];
  for (let d = 0; d < docs; d++) {
    const rows = minT + Math.floor(r() * (maxT - minT + 1));
    const g = gaussian(rows, dim, s++);
    if (kind === 'clustered') {
      const mine = [0, 1, 2].map(() => Math.floor(r() * topics));
      const scale = spread / Math.sqrt(dim);
      for (let t = 0; t < rows; t++) {
        const c = mine[Math.floor(r() * 3)] * dim;
        for (let k = 0; k < dim; k++) g[t * dim + k] = centres[c + k] + scale * g[t * dim + k];
      }
    }
    passages.push(matrix(rows, dim, normalizeRows(g, dim)));
  }
  const nq = opts.queries ?? 20;
  const qt = opts.queryTokens ?? 32;
  const related = opts.related ?? 8;
  const noise = opts.noise ?? 0.5;
  const queries: TokenMatrix[] = [];
  for (let q = 0; q < nq; q++) {
    const targets = Array.from({ length: opts.targets ?? 1 }, () => passages[Math.floor(r() * docs)]);
    const g = gaussian(qt, dim, s++);
    for (let i = 0; i < Math.min(related, qt); i++) {
      const target = targets[i % targets.length];
      const t = Math.floor(r() * target.rows);
      for (let k = 0; k < dim; k++) g[i * dim + k] = target.data[t * dim + k] + (noise / Math.sqrt(dim)) * g[i * dim + k];
    }
    queries.push(matrix(qt, dim, normalizeRows(g, dim)));
  }
  return { dim, passages, queries };
}

/** All passages' tokens concatenated, and their offsets (for the float maxSim). */
export function flatten(passages: TokenMatrix[], dim: number): { data: Float32Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(passages.length + 1);
  for (let j = 0; j < passages.length; j++) offsets[j + 1] = offsets[j] + passages[j].rows;
  const data = new Float32Array(offsets[passages.length] * dim);
  passages.forEach((p, j) => data.set(p.data.subarray(0, p.rows * dim), offsets[j] * dim));
  return { data, offsets };
}

/** Indices of the k largest scores (ties: lower index). */
export function topK(scores: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: scores.length }, (_, i) => i)
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, k);
}

/** A seeded sample of `n` rows of the passages' tokens. */
export function sampleTokens(data: Float32Array, dim: number, n: number, seed: number): Float32Array {
  const rows = data.length / dim;
  if (n >= rows) return data.slice();
  const r = rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const t = Math.floor(r() * rows);
    out.set(data.subarray(t * dim, (t + 1) * dim), i * dim);
  }
  return out;
}
