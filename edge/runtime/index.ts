// The per-isolate state of the edge worker.
export { edgeRuntime, type EdgeRuntime } from './edge-runtime.ts';
