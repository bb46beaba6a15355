// Entry of an optimization step thread (step-pool.ts): the worker has its own module loader,
// so it registers tsx before loading the TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./step-worker.ts');
