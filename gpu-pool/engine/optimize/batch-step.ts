// One optimization step over a batch of training queries, in two halves that threads can share
// without locks: the forward half (loss and per-candidate coefficients) splits the queries; the
// backward half (gradient accumulation, Adam, clearing the gradient) splits the target rows, so
// every row is written by one thread only, in the same order as a single thread would. The
// result is bit-identical whatever the number of threads.
import { Adam, type AdamOptions } from './adam.ts';
import { addGradient, lossCoefficients } from './contrastive.ts';

export interface StepItem {
  /** Row of the query matrix. */
  query: number;
  /** Target rows, positives first. */
  rows: Int32Array;
  positives: number;
}

/** The matrices a step reads and writes (SharedArrayBuffer-backed when threads share them). */
export interface StepBuffers {
  params: Float32Array;
  grad: Float32Array;
  m: Float32Array;
  v: Float32Array;
  queries: Float32Array;
  /** 1 = row may move; absent = all may. */
  trainable?: Uint8Array;
  /**
   * Per row, the norm it is kept at (its starting norm): each step is projected back onto that
   * sphere. Absent: norms are free. Under inner product a free norm lets a few documents grow
   * into hubs that outrank everything for every query.
   */
  norms?: Float32Array;
  /**
   * Anchoring: the starting targets and the weight λ of ½λ‖t − t₀‖² added to the loss of every
   * moving row, which keeps optimized documents near what the encoder said about them.
   */
  origin?: Float32Array;
  anchor?: number;
  /** Per row, 1 once it has had a gradient: Adam's momentum keeps moving it, so it is re-projected every step. */
  moving: Uint8Array;
  d: number;
}

export interface StepOptions extends AdamOptions {
  temperature: number;
}

/** Forward half for some items: their losses and coefficients. */
export function forwardItems(buffers: StepBuffers, space: Float32Array, items: readonly StepItem[], opts: StepOptions, scale: number): { losses: number[]; coefficients: Float64Array[] } {
  const { queries, d } = buffers;
  const losses: number[] = [];
  const coefficients: Float64Array[] = [];
  for (const item of items) {
    const r = lossCoefficients(queries.subarray(item.query * d, (item.query + 1) * d), space, d, item, { temperature: opts.temperature }, scale);
    losses.push(r.loss);
    coefficients.push(r.coefficients);
  }
  return { losses, coefficients };
}

/** Backward half for the target rows [from, to): accumulate, freeze, Adam, clear. */
export function backwardRows(buffers: StepBuffers, adam: Adam, items: readonly StepItem[], coefficients: readonly ArrayLike<number>[], from: number, to: number): void {
  const { params, grad, queries, trainable, norms, moving, d } = buffers;
  items.forEach((item, i) => addGradient(grad, queries.subarray(item.query * d, (item.query + 1) * d), d, item.rows, coefficients[i], from, to));
  for (const item of items) {
    for (const r of item.rows) {
      if (r < from || r >= to) continue;
      if (trainable && !trainable[r]) grad.fill(0, r * d, (r + 1) * d);
      else moving[r] = 1;
    }
  }
  if (buffers.origin && buffers.anchor) {
    const { origin, anchor } = buffers;
    for (let r = from; r < to; r++) {
      if (!moving[r]) continue;
      for (let i = r * d; i < (r + 1) * d; i++) grad[i] += anchor * (params[i] - origin[i]);
    }
  }
  adam.step(params, grad, from * d, to * d);
  if (norms && adam.lr > 0) {
    for (let r = from; r < to; r++) {
      if (!moving[r]) continue;
      let sq = 0;
      for (let i = r * d; i < (r + 1) * d; i++) sq += params[i] * params[i];
      const scale = sq > 0 ? norms[r] / Math.sqrt(sq) : 1;
      for (let i = r * d; i < (r + 1) * d; i++) params[i] *= scale;
    }
  }
  if (buffers.origin && buffers.anchor) {
    for (let r = from; r < to; r++) if (moving[r]) grad.fill(0, r * d, (r + 1) * d);
  } else {
    for (const item of items) for (const r of item.rows) if (r >= from && r < to) grad.fill(0, r * d, (r + 1) * d);
  }
}

export interface Stepper {
  /** The targets the loss sees this epoch (quantized, or a snapshot of the floats). */
  setSpace(vectors: Float32Array): Promise<void>;
  /** One Adam step on the batch; resolves to the items' losses, in order. */
  step(items: StepItem[], scale: number): Promise<number[]>;
  close(): Promise<void>;
}

export function newAdam(buffers: StepBuffers, opts: AdamOptions): Adam {
  return new Adam(buffers.params.length, opts, { m: buffers.m, v: buffers.v });
}

/** The single-thread stepper. */
export function localStepper(buffers: StepBuffers, opts: StepOptions): Stepper {
  const adam = newAdam(buffers, opts);
  const rows = buffers.params.length / buffers.d;
  let space: Float32Array = new Float32Array(0);
  return {
    async setSpace(vectors) {
      space = vectors;
    },
    async step(items, scale) {
      const { losses, coefficients } = forwardItems(buffers, space, items, opts, scale);
      backwardRows(buffers, adam, items, coefficients, 0, rows);
      return losses;
    },
    async close() {},
  };
}

/** A copy over shared memory with the same contents (workers see the same bytes). */
export function shared<T extends Float32Array | Uint8Array>(values: T): T {
  const out = values instanceof Float32Array ? new Float32Array(new SharedArrayBuffer(values.byteLength)) : new Uint8Array(new SharedArrayBuffer(values.byteLength));
  out.set(values);
  return out as T;
}
