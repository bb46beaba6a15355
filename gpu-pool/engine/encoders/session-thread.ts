// An OnnxRunner whose session lives on a worker thread: onnxruntime-node computes synchronously
// on the thread that calls run(), which on a server's main thread stalls all its I/O for the
// length of every batch. Tensors cross the boundary as transferred buffers (no copies).
import { Worker } from 'node:worker_threads';
import type { OnnxIo, OnnxRunner, SessionConfig, TensorData } from './session.ts';

export type WorkerRequest = { kind: 'run'; id: number; feeds: Record<string, TensorData>; output: string } | { kind: 'release' };

export type WorkerReply =
  | { kind: 'ready'; io: OnnxIo; provider: string }
  | { kind: 'failed'; message: string }
  | { kind: 'log'; message: string }
  | { kind: 'result'; id: number; out: TensorData }
  | { kind: 'error'; id: number; message: string };

const WORKER_ENTRY = new URL('./session-worker.js', import.meta.url);

export async function openWorkerRunner(onnxPath: string, cfg: SessionConfig): Promise<OnnxRunner> {
  const { log, ...plain } = cfg;
  const worker = new Worker(WORKER_ENTRY, { workerData: { onnxPath, cfg: plain } });
  const pending = new Map<number, { resolve: (t: TensorData) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let gone: Error | undefined;

  const ready = new Promise<{ io: OnnxIo; provider: string }>((resolve, reject) => {
    const fail = (err: Error) => {
      gone = err;
      reject(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    };
    worker.on('message', (msg: WorkerReply) => {
      switch (msg.kind) {
        case 'ready':
          return resolve({ io: msg.io, provider: msg.provider });
        case 'failed':
          return fail(new Error(msg.message));
        case 'log':
          return log?.(msg.message);
        case 'result':
        case 'error': {
          const p = pending.get(msg.id);
          pending.delete(msg.id);
          if (msg.kind === 'result') p?.resolve(msg.out);
          else p?.reject(new Error(msg.message));
        }
      }
    });
    worker.on('error', (err) => fail(new Error(`onnxruntime worker for ${onnxPath} failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new Error(`onnxruntime worker for ${onnxPath} exited (code ${code})`)));
  });
  let opened: { io: OnnxIo; provider: string };
  try {
    opened = await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  return {
    ...opened,
    run(feeds, output) {
      if (gone) return Promise.reject(gone);
      const id = nextId++;
      // Transfer whole buffers only (a view into a bigger buffer would take its neighbours along).
      const transfer = [...new Set(Object.values(feeds).filter((t) => t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength).map((t) => t.data.buffer as ArrayBuffer))];
      return new Promise<TensorData>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ kind: 'run', id, feeds, output } satisfies WorkerRequest, transfer);
      });
    },
    async release() {
      if (gone) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ kind: 'release' } satisfies WorkerRequest);
      await exited;
    },
  };
}
