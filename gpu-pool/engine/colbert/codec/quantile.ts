// Quantiles with linear interpolation between order statistics (torch.quantile's default,
// which ColBERTv2 uses for its bucket cutoffs and weights).

/** q-quantile (0 ≤ q ≤ 1) of ascending values. */
export function quantileSorted(sorted: Float32Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Bucket cutoffs (quantiles j / 2^bits, j = 1 … 2^bits − 1) and bucket weights (quantiles
 * (j + ½) / 2^bits, j = 0 … 2^bits − 1) of ascending values: each bucket holds an equal share
 * of the values, and its weight is its median.
 */
export function bucketsOf(sorted: Float32Array, bits: number): { cutoffs: number[]; weights: number[] } {
  const nb = 1 << bits;
  const cutoffs: number[] = [];
  const weights: number[] = [];
  for (let j = 1; j < nb; j++) cutoffs.push(Math.fround(quantileSorted(sorted, j / nb)));
  for (let j = 0; j < nb; j++) weights.push(Math.fround(quantileSorted(sorted, (j + 0.5) / nb)));
  return { cutoffs, weights };
}
