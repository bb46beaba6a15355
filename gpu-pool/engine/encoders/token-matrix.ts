// Token matrices: one text's token vectors (late interaction / ColBERT), and the few operations on
// them that every user needs: build, concatenate, project + L2-normalise rows.

/** One text's token vectors: rows × dim floats, row-major. */
export interface TokenMatrix {
  readonly rows: number;
  readonly dim: number;
  readonly data: Float32Array;
}

/** A matrix over `data` (not copied); throws when the length is not rows × dim. */
export function tokenMatrix(rows: number, dim: number, data: Float32Array = new Float32Array(rows * dim)): TokenMatrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(dim) || dim < 1)
    throw new Error(`token matrix: bad shape ${rows} × ${dim}`);
  if (data.length !== rows * dim) throw new Error(`token matrix: ${data.length} floats for ${rows} × ${dim}`);
  return { rows, dim, data };
}

/** The 0-row matrix of an empty text. */
export const emptyTokenMatrix = (dim: number): TokenMatrix => tokenMatrix(0, dim);

/** Row `i` as a view (not a copy). */
export function tokenRow(m: TokenMatrix, i: number): Float32Array {
  if (!Number.isInteger(i) || i < 0 || i >= m.rows) throw new RangeError(`token row ${i} out of 0..${m.rows - 1}`);
  return m.data.subarray(i * m.dim, (i + 1) * m.dim);
}

/** The rows of all `parts`, in order, as one matrix (all parts must share `dim`). */
export function concatTokenMatrices(parts: readonly TokenMatrix[], dim: number): TokenMatrix {
  let rows = 0;
  for (const p of parts) {
    if (p.dim !== dim) throw new Error(`token matrix: cannot concatenate a ${p.dim}-d matrix with ${dim}-d ones`);
    rows += p.rows;
  }
  const data = new Float32Array(rows * dim);
  let o = 0;
  for (const p of parts) {
    data.set(p.data.subarray(0, p.rows * dim), o);
    o += p.rows * dim;
  }
  return tokenMatrix(rows, dim, data);
}

/** Scale each row of `data` (n × dim, in place) to unit length; rows of norm 0 stay 0. */
export function l2NormalizeInPlace(data: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < data.length; o += dim) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += data[o + i] * data[o + i];
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < dim; i++) data[o + i] *= inv;
  }
  return data;
}

/** A copy of `m` with every row L2-normalised (rows of norm 0 stay 0). */
export function normalizeTokenRows(m: TokenMatrix): TokenMatrix {
  return tokenMatrix(m.rows, m.dim, l2NormalizeInPlace(m.data.slice(0, m.rows * m.dim), m.dim));
}

/**
 * `m · W`, rows L2-normalised, as a new matrix. `W` is m.dim × outDim, row-major (a token row vector
 * times the matrix); `undefined` is the identity. Each output row is summed in float64 (a 512-term
 * float32 sum would lose ~1e-5 on these norms), then rounded once.
 */
export function projectTokens(m: TokenMatrix, W: Float32Array | undefined, outDim = m.dim): TokenMatrix {
  if (!W) {
    if (outDim !== m.dim) throw new Error(`token projection: identity cannot map ${m.dim}-d rows to ${outDim}-d`);
    return normalizeTokenRows(m);
  }
  const k = m.dim;
  if (W.length !== k * outDim) throw new Error(`token projection: ${W.length} weights for ${k} × ${outDim}`);
  const out = new Float32Array(m.rows * outDim);
  const acc = new Float64Array(outDim);
  for (let r = 0; r < m.rows; r++) {
    acc.fill(0);
    const x = r * k;
    for (let i = 0; i < k; i++) {
      const xi = m.data[x + i];
      if (xi === 0) continue;
      const w = i * outDim;
      for (let j = 0; j < outDim; j++) acc[j] += xi * W[w + j];
    }
    let s = 0;
    for (let j = 0; j < outDim; j++) s += acc[j] * acc[j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    const o = r * outDim;
    for (let j = 0; j < outDim; j++) out[o + j] = acc[j] * inv;
  }
  return tokenMatrix(m.rows, outDim, out);
}
