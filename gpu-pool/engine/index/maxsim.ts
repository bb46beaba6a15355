// ColBERT late interaction scoring, computed natively (gpu-pool/engine/native/src/maxsim.cc).
import { toFaissError } from './errors.ts';
import { loadNative } from './native.ts';

/**
 * MaxSim (ColBERT late interaction) of one query against candidate passages:
 * `score[j] = Σ_i max_{t ∈ passage j} dot(q_i, d_t)`.
 *
 * Runs in C++ with OpenBLAS `sgemm` over blocks of doc tokens (single-threaded BLAS,
 * synchronous on the calling thread); there is no per-token JavaScript loop.
 *
 * @param queries    the query's token vectors, `nq × dim`, row-major
 * @param dim        vector dimension (1..65536)
 * @param docTokens  every candidate passage's token vectors, concatenated, `ntok × dim`, row-major
 * @param docOffsets `ndocs + 1` entries: `docOffsets[0] = 0`, non-decreasing,
 *                   `docOffsets[ndocs] = ntok`; passage `j` owns rows `[docOffsets[j], docOffsets[j+1])`
 * @returns one score per passage. A passage with no tokens scores 0, not -Infinity: no token of it
 *   matches anything, and a finite score keeps sorting and score fusion free of -Infinity/NaN
 *   (with normalised vectors a real passage can score below 0, so drop empty passages first if
 *   that matters). An empty query scores every passage 0. Float32 dot products summed by BLAS in
 *   its own order: expect differences from a plain loop around 1e-6 of the score's scale.
 * @throws FaissError with code `ERR_INVALID_ARG` (its `cause` is the native TypeError/RangeError
 *   naming the argument) for wrong types, lengths not a multiple of `dim`, `dim` out of range, or
 *   offsets that do not start at 0, decrease, or do not end at `docTokens.length / dim`.
 */
export function maxSim(
  queries: Float32Array,
  dim: number,
  docTokens: Float32Array,
  docOffsets: Uint32Array,
): Float32Array {
  const native = loadNative();
  try {
    return native.maxSim(queries, dim, docTokens, docOffsets);
  } catch (err) {
    throw toFaissError(err, 'maxSim');
  }
}
