// The training signal of target-embedding optimization: for one query, a softmax cross-entropy
// over its candidates' scores (query · target / temperature), with every positive counted as
// the right answer (multi-positive), and its gradient with respect to the targets.
//
// Quantization-aware training feeds `targets` = the quantized reconstructions of the float
// targets and applies the gradient to the float targets unchanged (straight-through): the
// ranking the index will actually compute is the one being trained.

export interface CandidateSet {
  /** Rows of the target matrix scored for this query: positives first, then negatives. */
  rows: Int32Array;
  /** How many of `rows`, from the front, are positives (at least 1). */
  positives: number;
}

export interface ContrastiveOptions {
  /** Softmax temperature on dot-product scores (default 0.05, for unit-norm embeddings). */
  temperature?: number;
}

export const DEFAULT_TEMPERATURE = 0.05;

/**
 * Loss of one query, and (when `grad` is given) `scale` × its gradient added into `grad`
 * (same shape as `targets`, n × d row-major) at the candidate rows. Memory: O(candidates).
 *
 * L = −log( Σ_{p ∈ P} e^{s_p} / Σ_{j ∈ C} e^{s_j} ),  s_j = q·t_j / τ
 * ∂L/∂s_j = softmax_C(s)_j − [j ∈ P] · softmax_P(s)_j,   ∂L/∂t_j = (∂L/∂s_j / τ) · q
 */
export function contrastiveLoss(
  query: Float32Array,
  targets: Float32Array,
  d: number,
  set: CandidateSet,
  opts: ContrastiveOptions = {},
  grad?: Float32Array,
  scale = 1,
): number {
  const { loss, coefficients } = lossCoefficients(query, targets, d, set, opts, scale);
  if (grad) {
    if (grad.length !== targets.length) throw new RangeError(`grad has ${grad.length} floats, targets ${targets.length}`);
    addGradient(grad, query, d, set.rows, coefficients, 0, targets.length / d);
  }
  return loss;
}

/**
 * The forward half: the loss, and per candidate the coefficient c_j = scale · (∂L/∂s_j) / τ,
 * so that the gradient of row j is c_j · q. Split from the accumulation so that threads can
 * compute queries' coefficients in parallel and then add rows they own (addGradient).
 */
export function lossCoefficients(query: Float32Array, targets: Float32Array, d: number, set: CandidateSet, opts: ContrastiveOptions = {}, scale = 1): { loss: number; coefficients: Float64Array } {
  const tau = opts.temperature ?? DEFAULT_TEMPERATURE;
  const { rows, positives } = set;
  if (query.length !== d) throw new RangeError(`query has ${query.length} components, expected ${d}`);
  if (positives < 1 || positives > rows.length) throw new RangeError(`positives must be in [1, ${rows.length}], got ${positives}`);
  if (!(tau > 0)) throw new RangeError(`temperature must be > 0, got ${tau}`);
  const n = targets.length / d;
  const s = new Float64Array(rows.length);
  let max = -Infinity;
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j];
    if (r < 0 || r >= n) throw new RangeError(`candidate row ${r} out of range [0, ${n})`);
    let dot = 0;
    const o = r * d;
    for (let i = 0; i < d; i++) dot += query[i] * targets[o + i];
    s[j] = dot / tau;
    if (s[j] > max) max = s[j];
  }
  // Log-sum-exp over all candidates and over the positives, shifted by the same max.
  let all = 0;
  let pos = 0;
  for (let j = 0; j < rows.length; j++) {
    s[j] = Math.exp(s[j] - max);
    all += s[j];
    if (j < positives) pos += s[j];
  }
  const loss = Math.log(all) - Math.log(pos);
  const coefficients = s; // reused: e_j → c_j
  for (let j = 0; j < rows.length; j++) {
    const e = s[j];
    coefficients[j] = (scale * (e / all - (j < positives ? e / pos : 0))) / tau;
  }
  return { loss, coefficients };
}

/** grad[row_j] += c_j · query for the candidates whose row is in [from, to). */
export function addGradient(grad: Float32Array, query: ArrayLike<number>, d: number, rows: Int32Array, coefficients: ArrayLike<number>, from: number, to: number): void {
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j];
    const c = coefficients[j];
    if (c === 0 || r < from || r >= to) continue;
    const o = r * d;
    for (let i = 0; i < d; i++) grad[o + i] += c * query[i];
  }
}
