// DensePhrases' phrase-level loss with a frozen encoder, and its gradient with respect to the four
// heads. For a batch of B questions and the T tokens of their gold paragraphs (each paragraph
// once), with x_t a token's feature, m_b a question's mean feature:
//
//   start logits  l_bt = (x_t Ws) · (m_b Qs)     end logits  (x_t We) · (m_b Qe)
//   ℓ_b = ½ (−log Σ_{g ∈ gold starts} softmax_t(l_b)_g  −  the same over the end logits)
//
// The softmax runs over every token of the batch: the other questions' paragraphs are in-batch
// negatives. Several gold answers are marginalised: the probability of any of them is maximised.
//
// Products are reassociated so nothing T × d is formed: l_b = u_b Xᵀ with u_b = (m_b Qs) Wsᵀ, and
// with G = ∂ℓ/∂l (B × T) and R = G X (B × H) every gradient is small: ∂Ws = Rᵀ (M Qs),
// ∂(M Qs) = R Ws, ∂Qs = Mᵀ ∂(M Qs). Two sgemm over B × H × T per side do the heavy work.
import { matmul } from '../../index/index.ts';

/** One batch. Token indices are rows of X. */
export interface SpanBatch {
  /** T × H token features of the batch's paragraphs, one after another. */
  X: Float32Array;
  T: number;
  /** B × H mean question features. */
  M: Float32Array;
  B: number;
  /** Per question: its gold start tokens and gold end tokens (rows of X). */
  starts: readonly (readonly number[])[];
  ends: readonly (readonly number[])[];
}

/** The four heads, each H × d, in the file's order (start, end, query start, query end), in one array. */
export function headViews(params: Float32Array, H: number, d: number) {
  const n = H * d;
  if (params.length !== 4 * n) throw new RangeError(`phrase heads: ${params.length} weights are not 4 × ${H} × ${d}`);
  return { start: params.subarray(0, n), end: params.subarray(n, 2 * n), queryStart: params.subarray(2 * n, 3 * n), queryEnd: params.subarray(3 * n, 4 * n) };
}

/**
 * Σ_b ℓ_b over the batch; when `grad` (4 × H × d, overwritten) is given, `scale` · ∂(Σ ℓ_b)/∂params
 * is written to it (scale 1/B: the gradient of the mean).
 */
export function spanLossAndGradient(params: Float32Array, H: number, d: number, batch: SpanBatch, opts: { grad?: Float32Array; scale?: number } = {}): number {
  const { X, T, M, B } = batch;
  if (X.length !== T * H) throw new RangeError(`span loss: X has ${X.length} floats, not ${T} × ${H}`);
  if (M.length !== B * H) throw new RangeError(`span loss: M has ${M.length} floats, not ${B} × ${H}`);
  if (batch.starts.length !== B || batch.ends.length !== B) throw new RangeError(`span loss: gold tokens for ${batch.starts.length}/${batch.ends.length} questions, not ${B}`);
  const w = headViews(params, H, d);
  const qs = matmul(M, w.queryStart, B, d, H);
  const qe = matmul(M, w.queryEnd, B, d, H);
  // U = [qs Wsᵀ; qe Weᵀ] (2B × H): each question's start and end directions in feature space.
  const U = new Float32Array(2 * B * H);
  U.set(matmul(qs, w.start, B, H, d, { transB: true }));
  U.set(matmul(qe, w.end, B, H, d, { transB: true }), B * H);
  const logits = matmul(U, X, 2 * B, T, H, { transB: true });
  // Row r < B: question r's start logits; row B + r: its end logits. G (in place) = ∂ℓ/∂logits.
  const G = logits;
  const half = 0.5 * (opts.scale ?? 1);
  let loss = 0;
  const exps = new Float64Array(T);
  for (let r = 0; r < 2 * B; r++) {
    const golds = r < B ? batch.starts[r] : batch.ends[r - B];
    if (golds.length === 0) throw new RangeError(`span loss: question ${r % B} of the batch has no gold ${r < B ? 'start' : 'end'}`);
    const o = r * T;
    let max = -Infinity;
    for (let t = 0; t < T; t++) if (logits[o + t] > max) max = logits[o + t];
    let all = 0;
    for (let t = 0; t < T; t++) all += exps[t] = Math.exp(logits[o + t] - max);
    let gold = 0;
    // Distinct golds only: a token counted twice would be weighted twice.
    const distinct = [...new Set(golds)];
    for (const g of distinct) {
      if (!(g >= 0 && g < T)) throw new RangeError(`span loss: gold token ${g} outside the batch's ${T} tokens`);
      gold += exps[g];
    }
    loss += 0.5 * (Math.log(all) - Math.log(gold));
    if (!opts.grad) continue;
    // ∂(−log Σ_gold p)/∂l_t = p_t − [t ∈ gold] p_t / Σ_gold p.
    for (let t = 0; t < T; t++) G[o + t] = half * (exps[t] / all);
    for (const g of distinct) G[o + g] -= half * (exps[g] / gold);
  }
  if (opts.grad) {
    const grad = headViews(opts.grad, H, d);
    const R = matmul(G, X, 2 * B, H, T);
    const Rs = R.subarray(0, B * H);
    const Re = R.subarray(B * H);
    grad.start.set(matmul(Rs, qs, H, d, B, { transA: true }));
    grad.end.set(matmul(Re, qe, H, d, B, { transA: true }));
    grad.queryStart.set(matmul(M, matmul(Rs, w.start, B, d, H), H, d, B, { transA: true }));
    grad.queryEnd.set(matmul(M, matmul(Re, w.end, B, d, H), H, d, B, { transA: true }));
  }
  return loss;
}
