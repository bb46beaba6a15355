// Body of an optimization step thread: forward half for the items it is given, backward half
// for its own range of target rows (batch-step.ts). Buffers are shared with the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { backwardRows, forwardItems, newAdam, type StepBuffers, type StepOptions } from './batch-step.ts';
import type { StepRequest, StepReply } from './step-pool.ts';

const { buffers, opts, from, to } = workerData as { buffers: StepBuffers; opts: StepOptions; from: number; to: number };
const adam = newAdam(buffers, opts);
let space: Float32Array = new Float32Array(0);

parentPort!.on('message', (msg: StepRequest) => {
  let reply: StepReply;
  try {
    switch (msg.kind) {
      case 'space':
        space = msg.vectors;
        reply = { kind: 'done', id: msg.id };
        break;
      case 'forward': {
        const { losses, coefficients } = forwardItems(buffers, space, msg.items, opts, msg.scale);
        reply = { kind: 'forward', id: msg.id, losses, coefficients };
        break;
      }
      case 'backward':
        backwardRows(buffers, adam, msg.items, msg.coefficients, from, to);
        reply = { kind: 'done', id: msg.id };
        break;
    }
  } catch (err) {
    reply = { kind: 'error', id: msg.id, message: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
