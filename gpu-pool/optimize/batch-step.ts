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
  const { params, grad, queries, trainable, d } = buffers;
  items.forEach((item, i) => addGradient(grad, queries.subarray(item.query * d, (item.query + 1) * d), d, item.rows, coefficients[i], from, to));
  if (trainable) {
    for (const item of items) for (const r of item.rows) if (r >= from && r < to && !trainable[r]) grad.fill(0, r * d, (r + 1) * d);
  }
  adam.step(params, grad, from * d, to * d);
  for (const item of items) for (const r of item.rows) if (r >= from && r < to) grad.fill(0, r * d, (r + 1) * d);
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

/** A Float32Array over shared memory with the same contents (workers see the same bytes). */
export function shared(values: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(values.byteLength));
  out.set(values);
  return out;
}
