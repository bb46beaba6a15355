// The quantized form of float targets under an index's trained quantizers (IVF centroids, OPQ
// rotation, PQ codebooks): encode into a scratch copy of the index and decode again. This is
// the forward representation of quantization-aware training, refreshed after every epoch.
import { FaissIndex } from '../index/index.ts';

/**
 * Returns vectors.length / d reconstructions, in order: what `index` would return from
 * reconstruct() had these vectors been added to it. `index` itself is left untouched.
 */
export async function quantizeWith(index: FaissIndex, vectors: Float32Array): Promise<Float32Array> {
  const d = index.dimension;
  if (vectors.length % d !== 0) throw new RangeError(`vectors hold ${vectors.length} floats, not a multiple of the index dimension ${d}`);
  const n = vectors.length / d;
  const scratch = index.clone();
  try {
    const held = scratch.ntotal;
    if (held > 0) await scratch.removeIds(BigInt64Array.from({ length: held }, (_, i) => BigInt(i)));
    if (scratch.ntotal !== 0) throw new Error(`cannot empty a copy of the index (ids are not 0..${held - 1}); quantize needs an index with sequential ids`);
    await scratch.add(vectors);
    return scratch.reconstructBatch(BigInt64Array.from({ length: n }, (_, i) => BigInt(i)));
  } finally {
    scratch.dispose();
  }
}
