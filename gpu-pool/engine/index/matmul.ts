// Dense float matrix products for the engine's training loops, computed natively
// (gpu-pool/engine/native/src/matmul.cc, OpenBLAS sgemm, single-threaded BLAS).
import { toFaissError } from './errors.ts';
import { loadNative } from './native.ts';

export interface MatmulOptions {
  /** `a` is stored k × m and used transposed. */
  transA?: boolean;
  /** `b` is stored n × k and used transposed. */
  transB?: boolean;
}

/**
 * `op(a) (m × k) · op(b) (k × n)` as a new row-major `m × n` Float32Array.
 * @throws FaissError `ERR_INVALID_ARG` when a length does not match its shape.
 */
export function matmul(a: Float32Array, b: Float32Array, m: number, n: number, k: number, opts: MatmulOptions = {}): Float32Array {
  try {
    return loadNative().matmul(a, b, m, n, k, opts.transA ?? false, opts.transB ?? false);
  } catch (err) {
    throw toFaissError(err, 'matmul');
  }
}
