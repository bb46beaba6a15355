// ConvDR's ranking loss on the student's normalised vector. For one turn with positives e⁺₁..e⁺_P
// and negatives e⁻₁..e⁻_N (document vectors, rows of d), and s = u/||u|| the student's output u
// normalised: CE_p = −z₀ + log Σ_j exp z_j over z = [s·e⁺_p, s·e⁻₁, ..., s·e⁻_N] / temperature, and
// the turn's loss is the mean of CE_p over its positives (each positive against the same
// negatives; every positive every step, so training stays deterministic for a seed).
// The gradient: ∂CE_p/∂s = Σ_j (softmax_j − [j = 0]) e_j / temperature, and through the
// normalisation ∂L/∂u = (g − s (s·g)) / ||u|| for g = ∂L/∂s.

/** One turn's ranking data: document vectors (unit length, as the index stores them). */
export interface RankRow {
  /** P × d: the relevant documents' vectors. */
  positives: Float32Array;
  /** N × d: the hard negatives' vectors. */
  negatives: Float32Array;
}

/** The turn's loss (mean over its positives) and its gradient with respect to the unnormalised output u. */
export function rankLossAndGradient(u: ArrayLike<number>, row: RankRow, temperature = 1): { loss: number; grad: Float64Array } {
  const d = u.length;
  const P = row.positives.length / d;
  const N = row.negatives.length / d;
  let norm = 0;
  for (let j = 0; j < d; j++) norm += u[j] * u[j];
  norm = Math.sqrt(norm);
  const grad = new Float64Array(d);
  if (P === 0 || norm === 0) return { loss: 0, grad };
  const s = new Float64Array(d);
  for (let j = 0; j < d; j++) s[j] = u[j] / norm;
  const score = (m: Float32Array, i: number) => {
    let z = 0;
    for (let j = 0; j < d; j++) z += s[j] * m[i * d + j];
    return z / temperature;
  };
  const negScores = Float64Array.from({ length: N }, (_, i) => score(row.negatives, i));
  // gs = ∂L/∂s, accumulated over the positives.
  const gs = new Float64Array(d);
  const p = new Float64Array(N);
  let loss = 0;
  for (let q = 0; q < P; q++) {
    const z0 = score(row.positives, q);
    let max = z0;
    for (let i = 0; i < N; i++) max = Math.max(max, negScores[i]);
    let sum = Math.exp(z0 - max);
    for (let i = 0; i < N; i++) sum += p[i] = Math.exp(negScores[i] - max);
    const p0 = Math.exp(z0 - max) / sum;
    loss += max + Math.log(sum) - z0;
    const c = 1 / (P * temperature);
    for (let j = 0; j < d; j++) gs[j] += c * (p0 - 1) * row.positives[q * d + j];
    for (let i = 0; i < N; i++) {
      const w = (c * p[i]) / sum;
      for (let j = 0; j < d; j++) gs[j] += w * row.negatives[i * d + j];
    }
  }
  let sg = 0;
  for (let j = 0; j < d; j++) sg += s[j] * gs[j];
  for (let j = 0; j < d; j++) grad[j] = (gs[j] - s[j] * sg) / norm;
  return { loss: loss / P, grad };
}

/** Mean ranking loss over the rows that have ranking data, of the rows × d outputs `u` (NaN when none has). */
export function meanRankLoss(u: Float32Array, rank: readonly (RankRow | undefined)[], d: number, temperature = 1): number {
  let sum = 0;
  let n = 0;
  rank.forEach((row, r) => {
    if (!row) return;
    sum += rankLossAndGradient(u.subarray(r * d, (r + 1) * d), row, temperature).loss;
    n++;
  });
  return n ? sum / n : NaN;
}
