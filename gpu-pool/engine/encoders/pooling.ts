// Pooling of token outputs ([B, T, H], right padded) into sentence vectors, and L2 normalisation.

/** Mean over the first `lengths[b]` positions of each row (float64 accumulation). */
export function meanPool(hidden: Float32Array, dims: readonly number[], lengths: ArrayLike<number>): Float32Array {
  const [B, T, H] = dims;
  const out = new Float32Array(B * H);
  const acc = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    const len = Math.min(lengths[b], T);
    acc.fill(0);
    for (let t = 0; t < len; t++) {
      const base = (b * T + t) * H;
      for (let h = 0; h < H; h++) acc[h] += hidden[base + h];
    }
    const inv = len > 0 ? 1 / len : 0;
    for (let h = 0; h < H; h++) out[b * H + h] = acc[h] * inv;
  }
  return out;
}

/** The vector at position 0 of each row ([CLS]). */
export function clsPool(hidden: Float32Array, dims: readonly number[]): Float32Array {
  const [B, T, H] = dims;
  const out = new Float32Array(B * H);
  for (let b = 0; b < B; b++) out.set(hidden.subarray(b * T * H, b * T * H + H), b * H);
  return out;
}

/**
 * Scale each row of `vecs` (n × d, in place) to unit length. Rows already within 1e-6 of unit
 * length (e.g. normalised in the graph) are left bit-for-bit as they are; zero rows stay zero.
 */
export function l2NormalizeRows(vecs: Float32Array, d: number): Float32Array {
  for (let o = 0; o < vecs.length; o += d) {
    let s = 0;
    for (let i = 0; i < d; i++) s += vecs[o + i] * vecs[o + i];
    const norm = Math.sqrt(s);
    if (norm === 0 || Math.abs(norm - 1) <= 1e-6) continue;
    for (let i = 0; i < d; i++) vecs[o + i] /= norm;
  }
  return vecs;
}
