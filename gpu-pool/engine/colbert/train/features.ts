// Token feature matrices of many texts (the frozen model's outputs), held in a few large
// Float32Array blocks: one allocation per 64 MiB, not one per text, and each text's matrix a view.
//
// Features are stored L2-normalised per token row. Nothing downstream changes: every score and
// every gradient of training is the same for a row x and for c·x (c > 0), since the projected
// row x·W is normalised again (normalise(c·x·W) = normalise(x·W), and the gradient with respect
// to W, Σ x ⊗ ∂L/∂(xW), has the c of x cancel the 1/c of ∂L/∂(xW)); TokenEncoder.project(raw
// features) therefore gives exactly what training saw. Unit rows also make float16 storage safe
// (use-lite's raw token features reach |x| ≈ 90, ‖x‖ ≈ 50) and make the identity baseline free.

/** The token matrices of a list of texts: item i is rows(i) × dim floats. */
export interface FeatureSet {
  readonly dim: number;
  readonly size: number;
  rows(i: number): number;
  /** rows(i) × dim, row-major: a view, not a copy. */
  view(i: number): Float32Array;
}

const BLOCK_FLOATS = 1 << 24;

export class FeatureStore implements FeatureSet {
  private readonly blocks: Float32Array[] = [];
  private used = 0;
  private readonly blockOf: number[] = [];
  private readonly offsetOf: number[] = [];
  private readonly rowsOf: number[] = [];
  private total = 0;

  constructor(readonly dim: number) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`feature dimension must be a positive integer, got ${dim}`);
  }

  get size(): number {
    return this.rowsOf.length;
  }

  /** Token rows over all items. */
  get totalRows(): number {
    return this.total;
  }

  /** Appends a rows × dim matrix (copied); returns its item index. */
  add(data: Float32Array, rows: number): number {
    const n = rows * this.dim;
    if (data.length < n) throw new RangeError(`feature store: ${data.length} floats for ${rows} × ${this.dim}`);
    let block = this.blocks.length - 1;
    if (block < 0 || this.used + n > this.blocks[block].length) {
      this.blocks.push(new Float32Array(Math.max(BLOCK_FLOATS, n)));
      block++;
      this.used = 0;
    }
    this.blocks[block].set(data.subarray(0, n), this.used);
    this.blockOf.push(block);
    this.offsetOf.push(this.used);
    this.rowsOf.push(rows);
    this.used += n;
    this.total += rows;
    return this.rowsOf.length - 1;
  }

  rows(i: number): number {
    return this.rowsOf[i];
  }

  view(i: number): Float32Array {
    const o = this.offsetOf[i];
    return this.blocks[this.blockOf[i]].subarray(o, o + this.rowsOf[i] * this.dim);
  }
}

/** A FeatureSet whose item i is item `index[i]` of another (a reordering, with repeats allowed). */
export function remapFeatures(base: FeatureSet, index: ArrayLike<number>): FeatureSet {
  return {
    dim: base.dim,
    size: index.length,
    rows: (i) => base.rows(index[i]),
    view: (i) => base.view(index[i]),
  };
}

/** Scale each row of `data` (rows × dim) to unit length in place; rows of norm 0 stay 0. Returns 1/norm per row (0 for those). */
export function normalizeRows(data: Float32Array, rows: number, dim: number, invNorms?: Float32Array): Float32Array {
  const inv = invNorms ?? new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let i = 0; i < dim; i++) s += data[o + i] * data[o + i];
    if (s === 0) {
      inv[r] = 0;
      continue;
    }
    const k = 1 / Math.sqrt(s);
    inv[r] = k;
    for (let i = 0; i < dim; i++) data[o + i] *= k;
  }
  return inv;
}

// IEEE 754 binary16, for the feature cache (half the bytes of float32; unit rows lose < 5e-4 relative).
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bits nearest to `x` (round to nearest even; overflow → ±Inf, NaN kept). */
export function halfBits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero).
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to Inf).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++;
  return sign | h;
}

let halfTable: Float32Array | undefined;

/** float16 bits → float32, through a 65,536-entry table. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = sign * m * 2 ** -24;
    else if (e === 0x1f) t[h] = m === 0 ? sign * Infinity : NaN;
    else t[h] = sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (halfTable = t);
}

export function toHalf(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  for (let i = 0; i < src.length; i++) dst[i] = halfBits(src[i]);
  return dst;
}

export function fromHalf(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const t = halfToFloatTable();
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]];
  return dst;
}

/** `data` rounded to float16 precision in place (what the cache will give back on the next run). */
export function roundToHalf(data: Float32Array): Float32Array {
  const t = halfToFloatTable();
  for (let i = 0; i < data.length; i++) data[i] = t[halfBits(data[i])];
  return data;
}
