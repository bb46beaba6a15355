// The codec's parameters as they are written to JSON (the token store's colbert.json): every
// number except the centroids, which live in a binary file beside it.
import { z } from 'zod';

export const RESIDUAL_BITS = [1, 2, 4] as const;
export type ResidualBits = (typeof RESIDUAL_BITS)[number];

/**
 * Where the bucket cutoffs come from. 'per-dimension': quantiles of each dimension's residuals
 * (the default); 'global': quantiles of all residual values pooled, as ColBERTv2 does. The
 * decoder treats both alike (a dim × 2^bits table), so this is a record of how they were made.
 */
export const QUANTILE_MODES = ['per-dimension', 'global'] as const;
export type QuantileMode = (typeof QUANTILE_MODES)[number];

/** How a codec was trained (for audit; decoding does not need it). */
export const CodecTraining = z.object({
  /** Vectors in the sample given to trainCodec. */
  sample: z.number().int().nonnegative(),
  /** Of those, how many k-means saw, and how many the residual quantiles were taken from. */
  kmeansPoints: z.number().int().nonnegative(),
  quantilePoints: z.number().int().nonnegative(),
  /** true when the quantiles came from vectors k-means did not see (ColBERTv2's held-out 5 %). */
  heldOut: z.boolean(),
  /** Corpus token count the centroid count was sized for (the ColBERTv2 rule). */
  tokens: z.number().int().nonnegative(),
  seed: z.number().int(),
  niter: z.number().int().positive(),
  /** Mean squared reconstruction error of the quantile vectors after decode (unit vectors: ≤ 4). */
  reconstructionMse: z.number().nonnegative(),
});
export type CodecTraining = z.infer<typeof CodecTraining>;

// zod 4's number() already refuses NaN and ±Infinity (JSON cannot hold them anyway).
const finite = z.number();

export const CodecParams = z
  .object({
    dim: z.number().int().min(1).max(65536),
    bits: z.union([z.literal(1), z.literal(2), z.literal(4)]),
    /** K: rows of the centroid file. */
    centroids: z.number().int().min(1).max(0xffffffff),
    quantiles: z.enum(QUANTILE_MODES),
    /** dim × (2^bits − 1), row-major, ascending within a dimension. */
    cutoffs: z.array(finite),
    /** dim × 2^bits, row-major. */
    weights: z.array(finite),
    training: CodecTraining.optional(),
  })
  .superRefine((p, ctx) => {
    const nb = 1 << p.bits;
    if (p.cutoffs.length !== p.dim * (nb - 1)) {
      ctx.addIssue({ code: 'custom', path: ['cutoffs'], message: `has ${p.cutoffs.length} values, dim × (2^bits − 1) = ${p.dim * (nb - 1)}` });
      return;
    }
    if (p.weights.length !== p.dim * nb) {
      ctx.addIssue({ code: 'custom', path: ['weights'], message: `has ${p.weights.length} values, dim × 2^bits = ${p.dim * nb}` });
      return;
    }
    for (let k = 0; k < p.dim; k++) {
      for (let j = 1; j < nb - 1; j++) {
        if (p.cutoffs[k * (nb - 1) + j] < p.cutoffs[k * (nb - 1) + j - 1]) {
          ctx.addIssue({ code: 'custom', path: ['cutoffs', k * (nb - 1) + j], message: `cutoffs of dimension ${k} are not ascending` });
          return;
        }
      }
    }
  });
export type CodecParams = z.infer<typeof CodecParams>;
