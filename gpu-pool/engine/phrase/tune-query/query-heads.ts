// The loss query-side fine-tuning minimises, and its gradient, for the query heads only (the
// phrase index is fixed): per question with mean token feature m, query vectors q_s = m Qs and
// q_e = m Qe, each pool phrase c scores
//     z_c = dense · (start_c · q_s + end_c · q_e) + fixed_c
// and the loss is DensePhrases' train-query objective, −log Σ_{c positive} softmax(z)_c (every
// phrase whose text is an answer counts). With g = softmax(z) − softmax over the positives,
// ∂/∂q_s = dense · Σ g_c start_c, and ∂/∂Qs = m ⊗ ∂/∂q_s.
import type { PoolPhrase } from './pools.ts';

export interface TuneQuestion {
  /** Mean token feature of the question (H). */
  m: Float32Array;
  pool: PoolPhrase[];
}

/** m (H) · W (H × d row-major) → d. */
export function matVec(m: Float32Array, W: Float32Array, d: number, out = new Float32Array(d)): Float32Array {
  out.fill(0);
  const H = m.length;
  for (let h = 0; h < H; h++) {
    const x = m[h];
    if (x === 0) continue;
    const o = h * d;
    for (let k = 0; k < d; k++) out[k] += x * W[o + k];
  }
  return out;
}

/** Pool scores z under query vectors (qs, qe). */
export function poolScores(q: TuneQuestion, qs: Float32Array, qe: Float32Array, dense: number): Float64Array {
  return Float64Array.from(q.pool, (c) => dense * (c.store.dotStart(qs, c.startRow) + c.store.dotEnd(qe, c.endRow)) + c.fixed);
}

function logSumExp(z: Float64Array, pick: (i: number) => boolean): number {
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) if (pick(i) && z[i] > max) max = z[i];
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < z.length; i++) if (pick(i)) s += Math.exp(z[i] - max);
  return max + Math.log(s);
}

/**
 * The question's loss; with `grad`, adds its gradient (times `scale`) into grad.Qs / grad.Qe.
 * Questions whose pool holds no positive have no loss (skipped by the caller).
 */
export function questionLoss(q: TuneQuestion, heads: { Qs: Float32Array; Qe: Float32Array; d: number }, dense: number, grad?: { Qs: Float32Array; Qe: Float32Array; scale: number }): number {
  const { d } = heads;
  const qs = matVec(q.m, heads.Qs, d);
  const qe = matVec(q.m, heads.Qe, d);
  const z = poolScores(q, qs, qe, dense);
  const all = logSumExp(z, () => true);
  const pos = logSumExp(z, (i) => q.pool[i].positive);
  if (grad) {
    const gs = new Float32Array(d);
    const ge = new Float32Array(d);
    q.pool.forEach((c, i) => {
      const g = Math.exp(z[i] - all) - (c.positive ? Math.exp(z[i] - pos) : 0);
      if (Math.abs(g) < 1e-12) return;
      c.store.addStart(c.startRow, dense * g, gs);
      c.store.addEnd(c.endRow, dense * g, ge);
    });
    const H = q.m.length;
    for (let h = 0; h < H; h++) {
      const x = q.m[h] * grad.scale;
      if (x === 0) continue;
      const o = h * d;
      for (let k = 0; k < d; k++) {
        grad.Qs[o + k] += x * gs[k];
        grad.Qe[o + k] += x * ge[k];
      }
    }
  }
  return all - pos;
}
