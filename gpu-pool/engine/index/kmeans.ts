// k-means on the faiss library (faiss::Clustering), for codebooks the engine trains itself
// (ColBERT's residual-codec centroids): an IVF index's coarse centroids cannot be read back
// through FaissIndex. Runs on a libuv pool thread (gpu-pool/engine/native/src/kmeans.cc).
import { invalidArg, toFaissError } from './errors.ts';
import { loadNative } from './native.ts';

export interface KmeansOptions {
  /** Lloyd iterations (default 20, as ColBERTv2). */
  niter?: number;
  /** faiss's random seed: initial centroids and subsampling (default 1234). */
  seed?: number;
  /** L2-normalise the centroids after every update (spherical k-means; default false). */
  spherical?: boolean;
  /** Assignment by largest inner product ('ip') or smallest L2 distance ('l2', default). */
  metric?: 'ip' | 'l2';
  /** faiss subsamples the input to k × this many points (default faiss's 256). */
  maxPointsPerCentroid?: number;
}

export interface KmeansResult {
  /** k × d, row-major. */
  centroids: Float32Array;
  /** faiss's objective after the last iteration (sum of distances or of similarities). */
  objective: number;
}

/**
 * k centroids of the rows of `x` (n × d, row-major, n ≥ k). Deterministic for a given seed and
 * thread count. faiss's "too few points per centroid" warning is switched off: the caller chooses
 * k for its sample.
 * @throws FaissError `ERR_INVALID_ARG` (wrong types, length not a multiple of d, n < k, bad
 *   options) or `ERR_FAISS`.
 */
export async function kmeans(x: Float32Array, d: number, k: number, opts: KmeansOptions = {}): Promise<KmeansResult> {
  if (!(x instanceof Float32Array)) throw invalidArg('kmeans', 'x must be a Float32Array');
  try {
    return await loadNative().kmeans(x, d, k, opts);
  } catch (err) {
    throw toFaissError(err, 'kmeans');
  }
}
