// A pool node process: HTTP front, shard host, router, metrics, graceful shutdown.
export { PoolNode, type PoolNodeOptions } from './pool-node.ts';
export { createPoolMetrics, type PoolMetrics } from './pool-metrics.ts';
