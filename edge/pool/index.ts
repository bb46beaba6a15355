// The edge's side of the pool: endpoint choice (weights, regions, circuit breakers), signed
// frame delivery with retries, micro-batching of concurrent queries, and version lease frames.
export { fullJitterBackoffMs } from './backoff.ts';
export { CircuitBreaker, type BreakerOptions, type BreakerState } from './circuit-breaker.ts';
export { EndpointPicker, type TrackedEndpoint } from './endpoint-picker.ts';
export { PoolTransport, type Delivered, type TransportOptions } from './pool-transport.ts';
export { MicroBatcher, type BatchQuery, type BatchedResult, type BatcherOptions } from './micro-batcher.ts';
export { LeaseClient, type LeaseAnswer, type LeaseClientOptions } from './lease-client.ts';
export { ReadinessProbe, type EndpointReadiness } from './readiness.ts';
