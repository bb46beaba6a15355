import { BATCH_SIZE_BUCKETS, DEFAULT_LATENCY_BUCKETS_MS, Registry, type Counter, type Histogram } from '../metrics/index.ts';

/** The metrics one pool node exports at /metrics. */
export interface PoolMetrics {
  registry: Registry;
  requests: Counter;
  shed: Counter;
  expired: Counter;
  shardErrors: Counter;
  hedges: Counter;
  batchSize: Histogram;
  stageMs: Histogram;
  requestMs: Histogram;
}

export function createPoolMetrics(queueDepth: () => number): PoolMetrics {
  const registry = new Registry();
  registry.gauge('edgesearch_queue_depth', 'Queries waiting for a batch on this router.', { collect: () => queueDepth() });
  return {
    registry,
    requests: registry.counter('edgesearch_requests_total', 'Frames answered, by frame type and HTTP status.', ['type', 'status']),
    shed: registry.counter('edgesearch_shed_queries_total', 'Queries refused because the router was saturated (a frame refused before decoding counts once).'),
    expired: registry.counter('edgesearch_expired_queries_total', 'Queries dropped before computing because their deadline passed.'),
    shardErrors: registry.counter('edgesearch_shard_errors_total', 'Failed shard calls (a retry or hedge may still have answered), by shard and node.', ['shard', 'node']),
    hedges: registry.counter('edgesearch_hedged_requests_total', 'Second requests sent to another replica of a slow shard, by node.', ['node']),
    batchSize: registry.histogram('edgesearch_batch_size', 'Queries per dynamic batch.', { buckets: BATCH_SIZE_BUCKETS }),
    stageMs: registry.histogram('edgesearch_stage_ms', 'Time per batch stage (encode, search, merge, evidence) in ms.', { buckets: DEFAULT_LATENCY_BUCKETS_MS, labelNames: ['stage'] }),
    requestMs: registry.histogram('edgesearch_request_ms', 'Time to answer a frame in ms, by frame type.', { buckets: DEFAULT_LATENCY_BUCKETS_MS, labelNames: ['type'] }),
  };
}
