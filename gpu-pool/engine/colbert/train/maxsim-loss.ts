// ColBERT's training loss for the linear projection W (F × dim) on frozen token features, and its
// gradient, written out by hand.
//
// Forward, per query q with token features Q (nq × F) and candidates c = 0 (the positive), 1..N:
//   P = Q·W, p_i = P_i / ‖P_i‖            E_c = D_c·W, e_t = E_t / ‖E_t‖
//   s_c = Σ_i max_t p_i·e_t  (MaxSim),     a_c(i) = the maximising token
//   L_q = −log softmax(s / τ)_0           (cross-entropy over the positive and its negatives)
// Backward, with g_c = (softmax(s/τ)_c − [c = 0]) / τ:
//   ∂L/∂p_i = Σ_c g_c e_{a_c(i)}          ∂L/∂e_t = Σ_{(c,i): a_c(i) = t} g_c p_i
//   through u ↦ u/‖u‖:  ∂L/∂u = (∂L/∂p − p (p·∂L/∂p)) / ‖u‖
//   ∂L/∂W = Σ_rows x_rowᵀ ∂L/∂u_row, over the query rows and the chosen (argmax) document rows only.
// Every product of a feature matrix and W (X·W, P·Eᵀ, Xᵀ·∂U) runs in native sgemm (matmul); the
// JS loops are over scores (nq × tokens) and dim-long rows, never over F × dim products.
import { matmul } from '../../index/index.ts';
import { normalizeRows } from './features.ts';

/** One query and its candidates: token features, rows × F each (rows may be any positive count). */
export interface LossItem {
  query: Float32Array;
  queryRows: number;
  /** [positive, ...negatives]. */
  docs: readonly { data: Float32Array; rows: number }[];
}

export interface LossResult {
  /** Σ over the items of their loss (not scaled). */
  loss: number;
  /** Σ over the items of `scale` · ∂loss/∂W, F × dim row-major. */
  grad: Float32Array;
}

/** Grows on demand; the training loop keeps one across steps so batches do not allocate megabytes each. */
export class LossScratch {
  docs = new Float32Array(0);
  xRows = new Float32Array(0);
  gRows = new Float32Array(0);

  ensure(name: 'docs' | 'xRows' | 'gRows', n: number): Float32Array {
    if (this[name].length < n) this[name] = new Float32Array(Math.max(n, Math.ceil(this[name].length * 1.5)));
    return this[name];
  }
}

/**
 * Loss and gradient of a batch of items at W. `scale` multiplies every item's gradient (1 / batch
 * size for a mean); `temperature` divides the scores before the softmax.
 */
export function maxSimLossAndGradient(
  W: Float32Array,
  F: number,
  dim: number,
  items: readonly LossItem[],
  opts: { temperature: number; scale: number; scratch?: LossScratch },
): LossResult {
  if (W.length !== F * dim) throw new RangeError(`W holds ${W.length} floats, not ${F} × ${dim}`);
  const scratch = opts.scratch ?? new LossScratch();
  const tau = opts.temperature;
  // Rows that get a gradient: query rows and chosen document rows, their features and ∂L/∂u.
  let rowsUsed = 0;
  let maxRows = 0;
  for (const it of items) maxRows += it.queryRows * (1 + it.docs.length);
  const X = scratch.ensure('xRows', maxRows * F);
  const G = scratch.ensure('gRows', maxRows * dim);
  let loss = 0;

  for (const it of items) {
    const nq = it.queryRows;
    const nc = it.docs.length;
    if (nq === 0 || nc === 0) continue;
    // Query side.
    const p = matmul(it.query.subarray(0, nq * F), W, nq, dim, F);
    const qInv = normalizeRows(p, nq, dim);
    // Candidates, gathered into one matrix.
    const offsets = new Int32Array(nc + 1);
    for (let c = 0; c < nc; c++) offsets[c + 1] = offsets[c] + it.docs[c].rows;
    const T = offsets[nc];
    const D = scratch.ensure('docs', T * F);
    for (let c = 0; c < nc; c++) D.set(it.docs[c].data.subarray(0, it.docs[c].rows * F), offsets[c] * F);
    const e = T > 0 ? matmul(D.subarray(0, T * F), W, T, dim, F) : new Float32Array(0);
    const eInv = normalizeRows(e, T, dim);
    const S = T > 0 ? matmul(p, e, nq, T, dim, { transB: true }) : new Float32Array(0);

    // MaxSim and its argmax per (candidate, query token).
    const arg = new Int32Array(nc * nq).fill(-1);
    const scores = new Float64Array(nc);
    for (let c = 0; c < nc; c++) {
      const from = offsets[c];
      const to = offsets[c + 1];
      if (from === to) continue;
      let s = 0;
      for (let i = 0; i < nq; i++) {
        const row = i * T;
        let best = from;
        let bv = S[row + from];
        for (let t = from + 1; t < to; t++) {
          const v = S[row + t];
          if (v > bv) {
            bv = v;
            best = t;
          }
        }
        arg[c * nq + i] = best;
        s += bv;
      }
      scores[c] = s;
    }
    // Cross-entropy with the positive at 0.
    let zMax = -Infinity;
    for (let c = 0; c < nc; c++) zMax = Math.max(zMax, scores[c] / tau);
    let sum = 0;
    for (let c = 0; c < nc; c++) sum += Math.exp(scores[c] / tau - zMax);
    const logZ = zMax + Math.log(sum);
    loss += logZ - scores[0] / tau;
    const g = new Float64Array(nc);
    for (let c = 0; c < nc; c++) g[c] = ((Math.exp(scores[c] / tau - logZ) - (c === 0 ? 1 : 0)) / tau) * opts.scale;

    // ∂L/∂p (nq × dim) and ∂L/∂e for the chosen document rows (accumulated per row).
    const dp = new Float64Array(nq * dim);
    const de = new Map<number, Float64Array>();
    for (let c = 0; c < nc; c++) {
      const gc = g[c];
      if (gc === 0) continue;
      for (let i = 0; i < nq; i++) {
        const t = arg[c * nq + i];
        if (t < 0) continue;
        const eo = t * dim;
        const po = i * dim;
        for (let k = 0; k < dim; k++) dp[po + k] += gc * e[eo + k];
        let acc = de.get(t);
        if (!acc) de.set(t, (acc = new Float64Array(dim)));
        for (let k = 0; k < dim; k++) acc[k] += gc * p[po + k];
      }
    }
    // Through the normalisations: one gradient row per query row and per chosen document row.
    for (let i = 0; i < nq; i++) {
      if (qInv[i] === 0) continue;
      rowsUsed = pushRow(X, G, rowsUsed, it.query, i, F, p, dp, i * dim, dim, qInv[i]);
    }
    for (const [t, acc] of de) {
      if (eInv[t] === 0) continue;
      rowsUsed = pushRow(X, G, rowsUsed, D, t, F, e, acc, 0, dim, eInv[t]);
    }
  }
  const grad = rowsUsed > 0 ? matmul(X.subarray(0, rowsUsed * F), G.subarray(0, rowsUsed * dim), F, dim, rowsUsed, { transA: true }) : new Float32Array(F * dim);
  return { loss, grad };
}

/**
 * Appends feature row `r` of `features` to X and (d − v (v·d)) · inv to G, where v is row `r` of
 * the normalised `unit` and d the dim floats of `dOut` at `dOff`. Returns the new row count.
 */
function pushRow(
  X: Float32Array,
  G: Float32Array,
  at: number,
  features: Float32Array,
  r: number,
  F: number,
  unit: Float32Array,
  dOut: Float64Array,
  dOff: number,
  dim: number,
  inv: number,
): number {
  X.set(features.subarray(r * F, (r + 1) * F), at * F);
  const vo = r * dim;
  let dot = 0;
  for (let k = 0; k < dim; k++) dot += unit[vo + k] * dOut[dOff + k];
  const go = at * dim;
  for (let k = 0; k < dim; k++) G[go + k] = (dOut[dOff + k] - unit[vo + k] * dot) * inv;
  return at + 1;
}
