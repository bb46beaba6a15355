// Adam on one flat parameter array (the target matrix), with moment buffers of the same size:
// memory proportional to the index, whatever the number of queries or negatives.

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;

  /** `moments`: the m and v buffers to use (e.g. shared with worker threads that step other ranges). */
  constructor(
    private readonly size: number,
    private readonly opts: AdamOptions,
    moments?: { m: Float32Array; v: Float32Array },
  ) {
    if (!(opts.lr >= 0) || !Number.isFinite(opts.lr)) throw new RangeError(`lr must be a finite number >= 0, got ${opts.lr}`);
    if (moments && (moments.m.length !== size || moments.v.length !== size)) throw new RangeError(`Adam: moment buffers must hold ${size} entries`);
    this.m = moments?.m ?? new Float32Array(size);
    this.v = moments?.v ?? new Float32Array(size);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  /**
   * params −= lr · m̂ / (√v̂ + eps). Only entries whose gradient or first moment is non-zero
   * move, so rows no query touched stay bit-identical; with lr 0 nothing moves at all.
   * `from`/`to` restrict the update to those entries (a thread's share); every step counts.
   */
  get lr(): number {
    return this.opts.lr;
  }

  step(params: Float32Array, grad: Float32Array, from = 0, to = this.size): void {
    if (params.length !== this.size || grad.length !== this.size) throw new RangeError(`Adam: expected ${this.size} entries, got params ${params.length}, grad ${grad.length}`);
    this.t++;
    const { beta1, beta2, eps } = this;
    const lr = this.opts.lr;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    const { m, v } = this;
    for (let i = from; i < to; i++) {
      const g = grad[i];
      if (g === 0 && m[i] === 0) continue;
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      if (lr === 0) continue;
      params[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
    }
  }
}
