// Body of the onnxruntime worker thread: one session, runs one request at a time in order.
import { parentPort, workerData } from 'node:worker_threads';
import { createSession, sessionRunner, type OnnxRunner, type SessionConfig, type TensorData } from './session.ts';
import type { WorkerReply, WorkerRequest } from './session-thread.ts';

const port = parentPort!;
const { onnxPath, cfg } = workerData as { onnxPath: string; cfg: Omit<SessionConfig, 'log'> };
const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

let runner: OnnxRunner;
try {
  runner = sessionRunner(await createSession(onnxPath, { ...cfg, log: (message) => post({ kind: 'log', message }) }));
  post({ kind: 'ready', io: runner.io, provider: runner.provider });
} catch (err) {
  post({ kind: 'failed', message: (err as Error).message });
  port.close();
}

port.on('message', async (msg: WorkerRequest) => {
  if (msg.kind === 'release') {
    await runner.release();
    port.close();
    return;
  }
  try {
    const out: TensorData = await runner.run(msg.feeds, msg.output);
    post({ kind: 'result', id: msg.id, out }, [out.data.buffer as ArrayBuffer]);
  } catch (err) {
    post({ kind: 'error', id: msg.id, message: (err as Error).message });
  }
});
