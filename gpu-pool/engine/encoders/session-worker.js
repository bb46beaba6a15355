// Entry of the onnxruntime worker thread (session-thread.ts): the worker has its own module
// loader, so it registers tsx before loading the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import('./session-worker.ts');
