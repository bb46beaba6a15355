// Deterministic data and brute-force references for the index tests.

/** mulberry32: small seeded PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n*d standard normal floats. */
export function gaussian(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** n*d gaussian rows scaled to unit length (directions uniform on the sphere). */
export function unitRows(n: number, d: number, seed: number): Float32Array {
  return normalizeRows(gaussian(n, d, seed), d);
}

/** Scales every row of `m` (rows of d) to unit length, in place. */
export function normalizeRows(m: Float32Array, d: number): Float32Array {
  for (let o = 0; o < m.length; o += d) {
    let s = 0;
    for (let i = 0; i < d; i++) s += m[o + i] ** 2;
    const norm = Math.sqrt(s);
    for (let i = 0; i < d; i++) m[o + i] /= norm;
  }
  return m;
}

/**
 * Gaussian blobs: more realistic for IVF/PQ than isotropic noise. Base and
 * query sets drawn with the same `centerSeed` share their centres.
 */
export function clustered(n: number, d: number, clusters: number, centerSeed: number, noiseSeed = centerSeed + 100, spread = 0.3): Float32Array {
  const centers = gaussian(clusters, d, centerSeed * 7919 + 1);
  const noise = gaussian(n, d, noiseSeed * 7919 + 2);
  const r = rng(noiseSeed * 7919 + 3);
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * clusters);
    for (let j = 0; j < d; j++) out[i * d + j] = centers[c * d + j] + spread * noise[i * d + j];
  }
  return out;
}

export interface Exact {
  labels: number[][];
  scores: number[][];
}

/** Brute-force top-k: IP (larger first) or squared L2 (smaller first). */
export function bruteForce(xb: Float32Array, xq: Float32Array, d: number, k: number, metric: 'ip' | 'l2'): Exact {
  const nb = xb.length / d;
  const nq = xq.length / d;
  const labels: number[][] = [];
  const scores: number[][] = [];
  for (let q = 0; q < nq; q++) {
    const s = new Float64Array(nb);
    for (let i = 0; i < nb; i++) {
      let acc = 0;
      for (let j = 0; j < d; j++) {
        const a = xq[q * d + j];
        const b = xb[i * d + j];
        acc += metric === 'ip' ? a * b : (a - b) * (a - b);
      }
      s[i] = acc;
    }
    const order = Array.from({ length: nb }, (_, i) => i).sort((a, b) => (metric === 'ip' ? s[b] - s[a] : s[a] - s[b]));
    labels.push(order.slice(0, k));
    scores.push(order.slice(0, k).map((i) => s[i]));
  }
  return { labels, scores };
}

/** Mean fraction of the exact top-k found in the returned top-k. */
export function recallAtK(labels: BigInt64Array, exact: Exact, k: number): number {
  let hit = 0;
  exact.labels.forEach((truth, q) => {
    const got = new Set<number>();
    for (let j = 0; j < k; j++) got.add(Number(labels[q * k + j]));
    for (const t of truth.slice(0, k)) if (got.has(t)) hit++;
  });
  return hit / (exact.labels.length * k);
}

export function rows(x: Float32Array, d: number, from: number, to: number): Float32Array {
  return x.slice(from * d, to * d);
}

/** Exact score of base row i against query row q. */
export function score(xb: Float32Array, i: number, xq: Float32Array, q: number, d: number, metric: 'ip' | 'l2'): number {
  let acc = 0;
  for (let j = 0; j < d; j++) {
    const a = xq[q * d + j];
    const b = xb[i * d + j];
    acc += metric === 'ip' ? a * b : (a - b) * (a - b);
  }
  return acc;
}

/**
 * Checks a search result against brute force, tolerant to float ties: the
 * distance at every rank matches the exact one, every returned label really has
 * that distance, and (almost) all labels are the exact ones. Returns the share
 * of labels identical to brute force.
 */
export function checkExact(
  res: { distances: Float32Array; labels: BigInt64Array },
  xb: Float32Array,
  xq: Float32Array,
  d: number,
  k: number,
  metric: 'ip' | 'l2',
  exact: Exact = bruteForce(xb, xq, d, k, metric),
): number {
  const nq = xq.length / d;
  let same = 0;
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(b));
  for (let q = 0; q < nq; q++) {
    const seen = new Set<number>();
    for (let j = 0; j < k; j++) {
      const label = Number(res.labels[q * k + j]);
      const dist = res.distances[q * k + j];
      if (label < 0 || label >= xb.length / d) throw new Error(`query ${q} rank ${j}: label ${label} out of range`);
      if (seen.has(label)) throw new Error(`query ${q}: label ${label} returned twice`);
      seen.add(label);
      if (!close(dist, exact.scores[q][j])) {
        throw new Error(`query ${q} rank ${j}: distance ${dist} but exact ${exact.scores[q][j]}`);
      }
      const own = score(xb, label, xq, q, d, metric);
      if (!close(own, dist)) throw new Error(`query ${q} rank ${j}: label ${label} has distance ${own}, reported ${dist}`);
      if (label === exact.labels[q][j]) same++;
    }
  }
  return same / (nq * k);
}
