// Prometheus metrics through prom-client: a registry per pool node, with the process's default
// metrics (CPU, memory, GC, event-loop lag) beside the node's own, text format 0.0.4.
export { createRegistry, CONTENT_TYPE, type RegistryOptions } from './registry.ts';
export { Counter, Gauge, Histogram, Registry } from 'prom-client';
export { BATCH_SIZE_BUCKETS, DEFAULT_LATENCY_BUCKETS_MS } from './buckets.ts';
