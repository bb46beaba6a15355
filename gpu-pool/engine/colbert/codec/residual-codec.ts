// ColBERTv2's residual codec: a token vector is its nearest centroid's id plus, per dimension,
// a few bits saying which bucket the residual (vector − centroid) falls in. Decoding adds each
// bucket's weight to the centroid and re-normalises to unit length, as ColBERTv2 does. The
// loops run natively (gpu-pool/engine/index/residual.ts).
import { residualBytes, residualDecode, residualEncode } from '../../index/index.ts';
import { CodecError } from './errors.ts';
import { CodecParams, RESIDUAL_BITS, type CodecTraining, type QuantileMode, type ResidualBits } from './params.ts';

export interface EncodedTokens {
  /** Nearest centroid (inner product) per vector. */
  codes: Uint32Array;
  /** `residualBytes` bytes per vector. */
  residuals: Uint8Array;
}

export interface ResidualCodecInit {
  dim: number;
  bits: ResidualBits;
  /** K × dim, row-major (unit rows: spherical k-means). */
  centroids: Float32Array;
  /** dim × (2^bits − 1), ascending per dimension. */
  cutoffs: Float32Array;
  /** dim × 2^bits. */
  weights: Float32Array;
  quantiles?: QuantileMode;
  training?: CodecTraining;
}

export class ResidualCodec {
  readonly dim: number;
  readonly bits: ResidualBits;
  readonly centroids: Float32Array;
  readonly cutoffs: Float32Array;
  readonly weights: Float32Array;
  readonly quantiles: QuantileMode;
  readonly training: CodecTraining | undefined;

  constructor(init: ResidualCodecInit) {
    const { dim, bits, centroids, cutoffs, weights } = init;
    if (!Number.isInteger(dim) || dim < 1 || dim > 65536) throw new CodecError(`dim must be an integer in [1, 65536], got ${dim}`);
    if (!(RESIDUAL_BITS as readonly number[]).includes(bits)) throw new CodecError(`bits must be 1, 2 or 4, got ${String(bits)}`);
    if (!(centroids instanceof Float32Array) || centroids.length === 0 || centroids.length % dim !== 0) {
      throw new CodecError(`centroids must be a non-empty Float32Array of K × dim (${dim}) floats, got length ${centroids?.length}`);
    }
    const nb = 1 << bits;
    if (!(cutoffs instanceof Float32Array) || cutoffs.length !== dim * (nb - 1)) {
      throw new CodecError(`cutoffs must be a Float32Array of dim × (2^bits − 1) = ${dim * (nb - 1)} floats, got length ${cutoffs?.length}`);
    }
    if (!(weights instanceof Float32Array) || weights.length !== dim * nb) {
      throw new CodecError(`weights must be a Float32Array of dim × 2^bits = ${dim * nb} floats, got length ${weights?.length}`);
    }
    this.dim = dim;
    this.bits = bits;
    this.centroids = centroids;
    this.cutoffs = cutoffs;
    this.weights = weights;
    this.quantiles = init.quantiles ?? 'per-dimension';
    this.training = init.training;
  }

  /** K. */
  get centroidCount(): number {
    return this.centroids.length / this.dim;
  }

  /** Packed residual bytes per vector: ceil(dim · bits / 8). */
  get residualBytes(): number {
    return residualBytes(this.dim, this.bits);
  }

  /** Stored bytes per vector: the 4-byte centroid id plus the residual. */
  get bytesPerToken(): number {
    return 4 + this.residualBytes;
  }

  /** Compresses rows of `dim` floats (n × dim, row-major). */
  encode(vectors: Float32Array): EncodedTokens {
    this.#checkRows('encode', vectors);
    return residualEncode(vectors, this);
  }

  /** Decompresses to unit-length rows (n × dim): centroid + bucket weights, re-normalised. */
  decode(codes: Uint32Array, residuals: Uint8Array): Float32Array {
    if (!(codes instanceof Uint32Array) || !(residuals instanceof Uint8Array)) {
      throw new CodecError('decode: codes must be a Uint32Array and residuals a Uint8Array');
    }
    if (residuals.length !== codes.length * this.residualBytes) {
      throw new CodecError(`decode: ${codes.length} codes need ${codes.length * this.residualBytes} residual bytes, got ${residuals.length}`);
    }
    return residualDecode(this, codes, residuals);
  }

  /** Everything but the centroids, for JSON (colbert.json). */
  params(): CodecParams {
    return {
      dim: this.dim,
      bits: this.bits,
      centroids: this.centroidCount,
      quantiles: this.quantiles,
      cutoffs: Array.from(this.cutoffs),
      weights: Array.from(this.weights),
      ...(this.training ? { training: this.training } : {}),
    };
  }

  /** The inverse of params(), with the centroids read from wherever they were stored. */
  static fromParams(params: CodecParams, centroids: Float32Array): ResidualCodec {
    const p = CodecParams.parse(params);
    if (centroids.length !== p.centroids * p.dim) {
      throw new CodecError(`the codec has ${p.centroids} centroids of dim ${p.dim} (${p.centroids * p.dim} floats), got ${centroids.length} floats`);
    }
    return new ResidualCodec({
      dim: p.dim,
      bits: p.bits,
      centroids,
      cutoffs: Float32Array.from(p.cutoffs),
      weights: Float32Array.from(p.weights),
      quantiles: p.quantiles,
      ...(p.training ? { training: p.training } : {}),
    });
  }

  #checkRows(op: string, v: Float32Array): void {
    if (!(v instanceof Float32Array)) throw new CodecError(`${op}: vectors must be a Float32Array`);
    if (v.length % this.dim !== 0) throw new CodecError(`${op}: vectors have length ${v.length}, not a multiple of the codec's dim ${this.dim}`);
  }
}
