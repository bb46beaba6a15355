import { BATCH_SIZE_BUCKETS, Counter, DEFAULT_LATENCY_BUCKETS_MS, Gauge, Histogram, createRegistry, type Registry } from '../metrics/index.ts';

/** The metrics one pool node exports at /metrics, beside the process metrics. */
export interface PoolMetrics {
  registry: Registry;
  requests: Counter<'type' | 'status'>;
  shed: Counter;
  expired: Counter;
  shardErrors: Counter<'shard' | 'node'>;
  evidenceVersionMismatches: Counter<'shard'>;
  versionRepins: Counter<'shard'>;
  missingShardResults: Counter<'shard'>;
  hedges: Counter<'node'>;
  batchSize: Histogram;
  stageMs: Histogram<'stage'>;
  requestMs: Histogram<'type'>;
}

export function createPoolMetrics(queueDepth: () => number): PoolMetrics {
  const registry = createRegistry();
  const registers = [registry];
  new Gauge({
    name: 'edgesearch_queue_depth',
    help: 'Queries waiting for a batch on this router.',
    registers,
    collect() {
      this.set(queueDepth());
    },
  });
  return {
    registry,
    requests: new Counter({ name: 'edgesearch_requests_total', help: 'Frames answered, by frame type and HTTP status.', labelNames: ['type', 'status'], registers }),
    shed: new Counter({ name: 'edgesearch_shed_queries_total', help: 'Queries refused because the router was saturated (a frame refused before decoding counts once).', registers }),
    expired: new Counter({ name: 'edgesearch_expired_queries_total', help: 'Queries dropped before computing because their deadline passed.', registers }),
    shardErrors: new Counter({ name: 'edgesearch_shard_errors_total', help: 'Failed shard calls (a retry or hedge may still have answered), by shard and node.', labelNames: ['shard', 'node'], registers }),
    evidenceVersionMismatches: new Counter({
      name: 'edgesearch_evidence_version_mismatches_total',
      help: 'Batches whose evidence came from another shard version than their search (a swap in between); the batch is searched again once, by shard.',
      labelNames: ['shard'],
      registers,
    }),
    versionRepins: new Counter({
      name: 'edgesearch_index_version_repins_total',
      help: 'Batches searched again because no replica of a shard still served the index version the router answered from (a rollout moved on), by shard.',
      labelNames: ['shard'],
      registers,
    }),
    missingShardResults: new Counter({
      name: 'edgesearch_missing_shard_results_total',
      help: 'Query results answered without a shard (marked partial: its search or evidence failed on every replica), by missing shard.',
      labelNames: ['shard'],
      registers,
    }),
    hedges: new Counter({ name: 'edgesearch_hedged_requests_total', help: 'Second requests sent to another replica of a slow shard, by node.', labelNames: ['node'], registers }),
    batchSize: new Histogram({ name: 'edgesearch_batch_size', help: 'Queries per dynamic batch.', buckets: [...BATCH_SIZE_BUCKETS], registers }),
    stageMs: new Histogram({ name: 'edgesearch_stage_ms', help: 'Time per batch stage (encode, search, merge, evidence) in ms.', buckets: [...DEFAULT_LATENCY_BUCKETS_MS], labelNames: ['stage'], registers }),
    requestMs: new Histogram({ name: 'edgesearch_request_ms', help: 'Time to answer a frame in ms, by frame type.', buckets: [...DEFAULT_LATENCY_BUCKETS_MS], labelNames: ['type'], registers }),
  };
}
