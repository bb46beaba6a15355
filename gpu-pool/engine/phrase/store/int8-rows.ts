// Start and end vectors stored as int8 with one scale per row (symmetric: x ≈ scale · q,
// |q| ≤ 127): a quarter of float32, and exact enough to re-score the candidates faiss finds.

/** Quantizes rows × dim floats into `q` / `scales` at row `at`. */
export function quantizeRows(x: Float32Array, dim: number, q: Int8Array, scales: Float32Array, at: number): void {
  const rows = x.length / dim;
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let k = 0; k < dim; k++) m = Math.max(m, Math.abs(x[r * dim + k]));
    const scale = m / 127;
    scales[at + r] = scale;
    const inv = scale > 0 ? 1 / scale : 0;
    const o = (at + r) * dim;
    for (let k = 0; k < dim; k++) q[o + k] = Math.round(x[r * dim + k] * inv);
  }
}

/** v · (row `r` dequantized). */
export function dotRow(v: Float32Array, q: Int8Array, scales: Float32Array, r: number): number {
  const dim = v.length;
  const o = r * dim;
  let s = 0;
  for (let k = 0; k < dim; k++) s += v[k] * q[o + k];
  return s * scales[r];
}

/** out += c · (row `r` dequantized). */
export function addRow(q: Int8Array, scales: Float32Array, r: number, c: number, out: Float32Array): void {
  const dim = out.length;
  const o = r * dim;
  const f = c * scales[r];
  for (let k = 0; k < dim; k++) out[k] += f * q[o + k];
}
