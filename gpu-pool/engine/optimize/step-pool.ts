// Optimization steps on worker threads: each of `threads` workers computes the forward half for
// every threads-th query of a batch and then the backward half for its own contiguous range of
// target rows (batch-step.ts). Buffers live in shared memory; only item lists and per-candidate
// coefficients cross threads. Results are bit-identical to the single-thread stepper.
import { Worker } from 'node:worker_threads';
import { shared, type StepBuffers, type StepItem, type StepOptions, type Stepper } from './batch-step.ts';

export type StepRequest =
  | { kind: 'space'; id: number; vectors: Float32Array }
  | { kind: 'forward'; id: number; items: StepItem[]; scale: number }
  | { kind: 'backward'; id: number; items: StepItem[]; coefficients: Float64Array[] };

export type StepReply = { kind: 'done'; id: number } | { kind: 'forward'; id: number; losses: number[]; coefficients: Float64Array[] } | { kind: 'error'; id: number; message: string };

/** A request before it is numbered (Omit distributed over the union). */
type Unsent<R = StepRequest> = R extends StepRequest ? Omit<R, 'id'> : never;

const WORKER_ENTRY = new URL('./step-worker.js', import.meta.url);

function isShared(a: Float32Array | Uint8Array): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

export async function openStepPool(buffers: StepBuffers, opts: StepOptions, threads: number): Promise<Stepper> {
  for (const [name, a] of Object.entries({ params: buffers.params, grad: buffers.grad, m: buffers.m, v: buffers.v, queries: buffers.queries, moving: buffers.moving, ...(buffers.trainable ? { trainable: buffers.trainable } : {}), ...(buffers.norms ? { norms: buffers.norms } : {}), ...(buffers.origin ? { origin: buffers.origin } : {}) })) {
    if (!isShared(a)) throw new TypeError(`step pool: buffer ${name} must live in a SharedArrayBuffer`);
  }
  const rows = buffers.params.length / buffers.d;
  const workers = Array.from({ length: threads }, (_, w) => {
    const from = Math.floor((w * rows) / threads);
    const to = Math.floor(((w + 1) * rows) / threads);
    return new Worker(WORKER_ENTRY, { workerData: { buffers, opts, from, to } });
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (r: StepReply) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  for (const worker of workers) {
    worker.on('message', (reply: StepReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (reply.kind === 'error') p.reject(new Error(`optimization thread: ${reply.message}`));
      else p.resolve(reply);
    });
    worker.on('error', (err) => {
      failure = err;
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  }
  const ask = (w: number, request: Unsent): Promise<StepReply> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<StepReply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      workers[w].postMessage({ ...request, id });
    });
  };

  return {
    async setSpace(vectors) {
      const v = isShared(vectors) ? vectors : shared(vectors);
      await Promise.all(workers.map((_, w) => ask(w, { kind: 'space', vectors: v })));
    },
    async step(items, scale) {
      const shares = workers.map((_, w) => items.filter((_, i) => i % threads === w));
      const replies = await Promise.all(shares.map((share, w) => ask(w, { kind: 'forward', items: share, scale })));
      const losses = new Array<number>(items.length);
      const coefficients = new Array<Float64Array>(items.length);
      replies.forEach((reply, w) => {
        if (reply.kind !== 'forward') throw new Error('optimization thread: unexpected reply');
        reply.losses.forEach((loss, j) => {
          losses[j * threads + w] = loss;
          coefficients[j * threads + w] = reply.coefficients[j];
        });
      });
      await Promise.all(workers.map((_, w) => ask(w, { kind: 'backward', items, coefficients })));
      return losses;
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
