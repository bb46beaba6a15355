// Training a residual codec from a sample of token vectors, as ColBERTv2's CollectionIndexer
// does: spherical k-means for the centroids, then bucket cutoffs and weights from quantiles
// of the residuals of vectors k-means did not see.
import { assignCentroids, kmeans } from '../../index/index.ts';
import { CodecError } from './errors.ts';
import { RESIDUAL_BITS, QUANTILE_MODES, type QuantileMode, type ResidualBits } from './params.ts';
import { bucketsOf } from './quantile.ts';
import { ResidualCodec } from './residual-codec.ts';

export interface TrainCodecOptions {
  /** K (default: defaultCentroidCount(tokens, k-means points)). */
  centroids?: number;
  /** Residual bits per dimension (default 2, ColBERTv2's usual setting). */
  bits?: ResidualBits;
  /** Shuffle (held-out split) and k-means seed (default 1234). */
  seed?: number;
  /** Token count of the whole corpus, for the centroid rule (default: the sample's rows). */
  tokens?: number;
  /** k-means iterations (default 20, ColBERTv2's). */
  niter?: number;
  /** Per-dimension quantiles (default) or pooled over all dimensions as ColBERTv2. */
  quantiles?: QuantileMode;
}

/** ColBERTv2 takes the residual quantiles from a held-out 5 % of the sample... */
const HELD_OUT_FRACTION = 0.05;
/** ...which here must hold at least this many vectors (per-dimension quantiles of 2^bits buckets need a few hundred values). */
const MIN_HELD_OUT = 512;
/** At most one centroid per this many k-means points: with fewer, k-means mostly memorises the sample and the residuals it measures are too small. */
const POINTS_PER_CENTROID = 8;

/**
 * ColBERTv2's rule of thumb, 2^floor(log2(16 · sqrt(tokens))), capped at one centroid per
 * POINTS_PER_CENTROID (8) sample vectors and at least 1.
 */
export function defaultCentroidCount(tokens: number, samplePoints: number): number {
  const rule = tokens > 0 ? 2 ** Math.floor(Math.log2(16 * Math.sqrt(tokens))) : 1;
  return Math.max(1, Math.min(rule, Math.floor(samplePoints / POINTS_PER_CENTROID)));
}

/** mulberry32: a seeded shuffle that is the same on every platform. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rows(src: Float32Array, dim: number, order: Uint32Array, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * dim);
  for (let i = from; i < to; i++) out.set(src.subarray(order[i] * dim, (order[i] + 1) * dim), (i - from) * dim);
  return out;
}

/**
 * Trains a codec on `sample` (n × dim floats, row-major; ColBERT's vectors are L2-normalised,
 * and the centroids come out unit length). Asynchronous: k-means runs on a pool thread.
 *
 * With n ≥ 10,240, a seeded 5 % of the sample is held out of k-means and its residuals give the
 * bucket cutoffs and weights (ColBERTv2's choice: residuals of the vectors k-means was fitted to
 * are biased small); with fewer, all vectors give both.
 * @throws CodecError for bad shapes, non-finite values, bits not 1/2/4, more centroids than points.
 */
export async function trainCodec(sample: Float32Array, dim: number, opts: TrainCodecOptions = {}): Promise<ResidualCodec> {
  if (!(sample instanceof Float32Array)) throw new CodecError('trainCodec: sample must be a Float32Array');
  if (!Number.isInteger(dim) || dim < 1 || dim > 65536) throw new CodecError(`trainCodec: dim must be an integer in [1, 65536], got ${dim}`);
  if (sample.length === 0 || sample.length % dim !== 0) {
    throw new CodecError(`trainCodec: sample has length ${sample.length}, not a positive multiple of dim ${dim}`);
  }
  const bits = opts.bits ?? 2;
  if (!(RESIDUAL_BITS as readonly number[]).includes(bits)) throw new CodecError(`trainCodec: bits must be 1, 2 or 4, got ${String(bits)}`);
  const quantiles = opts.quantiles ?? 'per-dimension';
  if (!(QUANTILE_MODES as readonly string[]).includes(quantiles)) throw new CodecError(`trainCodec: quantiles must be one of ${QUANTILE_MODES.join(', ')}`);
  const seed = opts.seed ?? 1234;
  const niter = opts.niter ?? 20;
  for (let i = 0; i < sample.length; i++) {
    if (!Number.isFinite(sample[i])) throw new CodecError(`trainCodec: sample value ${i} (row ${Math.floor(i / dim)}) is not finite`);
  }
  const n = sample.length / dim;
  const tokens = opts.tokens ?? n;

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const heldCount = Math.floor(n * HELD_OUT_FRACTION);
  const heldOut = heldCount >= MIN_HELD_OUT;
  let fit = sample;
  let held = sample;
  if (heldOut) {
    const r = rng(seed);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    fit = rows(sample, dim, order, 0, n - heldCount);
    held = rows(sample, dim, order, n - heldCount, n);
  }
  const fitPoints = fit.length / dim;
  const k = opts.centroids ?? defaultCentroidCount(tokens, fitPoints);
  if (!Number.isInteger(k) || k < 1) throw new CodecError(`trainCodec: centroids must be an integer ≥ 1, got ${k}`);
  if (k > fitPoints) throw new CodecError(`trainCodec: ${k} centroids need at least as many k-means points, the sample gives ${fitPoints}`);

  const { centroids } = await kmeans(fit, dim, k, { niter, seed, spherical: true, metric: 'ip' });

  // Residuals of the quantile vectors against their nearest centroid.
  const heldPoints = held.length / dim;
  const assign = assignCentroids(held, dim, centroids);
  const res = new Float32Array(held.length);
  for (let i = 0; i < heldPoints; i++) {
    const c = assign[i] * dim;
    const o = i * dim;
    for (let d = 0; d < dim; d++) res[o + d] = held[o + d] - centroids[c + d];
  }

  const nb = 1 << bits;
  const cutoffs = new Float32Array(dim * (nb - 1));
  const weights = new Float32Array(dim * nb);
  if (quantiles === 'global') {
    const b = bucketsOf(Float32Array.from(res).sort(), bits);
    for (let d = 0; d < dim; d++) {
      cutoffs.set(b.cutoffs, d * (nb - 1));
      weights.set(b.weights, d * nb);
    }
  } else {
    const col = new Float32Array(heldPoints);
    for (let d = 0; d < dim; d++) {
      for (let i = 0; i < heldPoints; i++) col[i] = res[i * dim + d];
      const b = bucketsOf(col.sort(), bits);
      cutoffs.set(b.cutoffs, d * (nb - 1));
      weights.set(b.weights, d * nb);
    }
  }

  const codec = new ResidualCodec({ dim, bits, centroids, cutoffs, weights, quantiles });
  const enc = codec.encode(held);
  const dec = codec.decode(enc.codes, enc.residuals);
  let se = 0;
  for (let i = 0; i < held.length; i++) se += (held[i] - dec[i]) ** 2;
  return new ResidualCodec({
    dim,
    bits,
    centroids,
    cutoffs,
    weights,
    quantiles,
    training: {
      sample: n,
      kmeansPoints: fitPoints,
      quantilePoints: heldPoints,
      heldOut,
      tokens,
      seed,
      niter,
      reconstructionMse: se / heldPoints,
    },
  });
}
