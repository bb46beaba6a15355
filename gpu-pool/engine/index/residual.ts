// ColBERTv2 residual compression and PLAID candidate generation, computed natively
// (gpu-pool/engine/native/src/residual.cc: OpenBLAS sgemm, synchronous on the calling thread).
// The codec training and the on-disk store are gpu-pool/engine/colbert/; these are the loops
// that must not run per token in JavaScript.
import { toFaissError } from './errors.ts';
import { loadNative, type NativePlaidStore, type NativeResidualCodec, type NativeResidualTokens } from './native.ts';

export type ResidualBits = 1 | 2 | 4;

/** A residual codec's arrays. `centroids` is K × dim (unit rows); per dimension k, `cutoffs[k]`
 * holds 2^bits − 1 ascending bucket boundaries and `weights[k]` the 2^bits bucket values. */
export interface ResidualCodecArrays {
  dim: number;
  bits: ResidualBits;
  centroids: Float32Array;
  /** dim × (2^bits − 1), row-major (encode). */
  cutoffs: Float32Array;
  /** dim × 2^bits, row-major (decode). */
  weights: Float32Array;
}

/** Compressed tokens of consecutive passages. */
export interface ResidualTokens {
  /** Centroid id per token. */
  codes: Uint32Array;
  /** ceil(dim · bits / 8) bytes per token; dimension k in byte k / (8 / bits), least significant bits first. */
  residuals: Uint8Array;
  /** ndocs + 1 entries, from 0 to codes.length: passage j owns tokens [docOffsets[j], docOffsets[j+1]). */
  docOffsets: Uint32Array;
}

/** PLAID's inverted file: centroid c's passages are ivfDocs[ivfOffsets[c] .. ivfOffsets[c+1]). */
export interface CentroidPassages {
  /** K + 1 entries. */
  ivfOffsets: Uint32Array;
  ivfDocs: Uint32Array;
}

/** Bytes of one token's packed residual. */
export function residualBytes(dim: number, bits: ResidualBits): number {
  return Math.ceil(dim / (8 / bits));
}

function call<T>(op: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw toFaissError(err, op);
  }
}

/** Nearest centroid by inner product of each row of x (n × dim); ties go to the lower id. OpenMP over blocks of rows. */
export function assignCentroids(x: Float32Array, dim: number, centroids: Float32Array): Uint32Array {
  return call('assignCentroids', () => loadNative().assignCentroids(x, dim, centroids));
}

/** Nearest centroid and packed residual buckets of each row of x (n × dim). */
export function residualEncode(x: Float32Array, codec: ResidualCodecArrays): { codes: Uint32Array; residuals: Uint8Array } {
  const c: NativeResidualCodec & { cutoffs: Float32Array } = codec;
  return call('residualEncode', () => loadNative().residualEncode(x, c));
}

/** Decoded tokens (codes.length × dim): centroid + bucket weights, re-normalised to unit length. */
export function residualDecode(codec: ResidualCodecArrays, codes: Uint32Array, residuals: Uint8Array): Float32Array {
  return call('residualDecode', () => loadNative().residualDecode(codec, codes, residuals));
}

/**
 * Exact MaxSim of one query (nq × dim) against the passages `ordinals` of compressed tokens:
 * each passage's tokens are decoded (as residualDecode) into a scratch block and scored with
 * sgemm, as maxSim does over floats. Equals maxSim over residualDecode's output up to float
 * summation order. A passage without tokens scores 0.
 * @throws FaissError `ERR_INVALID_ARG` for bad shapes, an ordinal out of range, a code ≥ K.
 */
export function maxSimResidual(
  queries: Float32Array,
  codec: ResidualCodecArrays,
  tokens: ResidualTokens,
  ordinals: Uint32Array,
): Float32Array {
  const store: NativeResidualTokens = { ...tokens, dim: codec.dim, bits: codec.bits, centroids: codec.centroids, weights: codec.weights };
  return call('maxSimResidual', () => loadNative().maxSimResidual(queries, store, ordinals));
}

export interface PlaidOptions {
  /** Centroids probed per query token. */
  nprobe: number;
  /** Candidates returned. */
  limit: number;
  /**
   * PLAID's centroid pruning: a first pass counts only tokens whose centroid scores at least this
   * against some query token (PLAID uses 0.4–0.5 with ColBERTv2's vectors), keeps the best
   * `pruneKeep` passages (at least `limit`), and only those get the full centroid interaction.
   * Absent: no pruning.
   */
  threshold?: number | undefined;
  pruneKeep?: number | undefined;
}

/**
 * PLAID-style candidates (stages 1–3): the `nprobe` best centroids of each query token, the union
 * of their passages, ranked by centroid-only MaxSim (Σ_i max over the passage's tokens of
 * q_i · centroid(token)), optionally after a pruned pass; the `limit` best, best first (ties:
 * lower ordinal first), with those approximate scores.
 */
export function plaidCandidates(
  queries: Float32Array,
  codec: Pick<ResidualCodecArrays, 'dim' | 'bits' | 'centroids'>,
  tokens: Pick<ResidualTokens, 'codes' | 'docOffsets'>,
  ivf: CentroidPassages,
  opts: PlaidOptions,
): { ordinals: Uint32Array; scores: Float32Array } {
  const store: NativePlaidStore = { dim: codec.dim, bits: codec.bits, centroids: codec.centroids, codes: tokens.codes, docOffsets: tokens.docOffsets, ...ivf };
  return call('plaidCandidates', () =>
    opts.threshold === undefined
      ? loadNative().plaidCandidates(queries, store, opts.nprobe, opts.limit)
      : loadNative().plaidCandidates(queries, store, opts.nprobe, opts.limit, opts.threshold, opts.pruneKeep ?? 4 * opts.limit),
  );
}
