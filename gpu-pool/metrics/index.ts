// Prometheus metrics without dependencies: counters, gauges, histograms, text format 0.0.4.
export { Registry } from './registry.ts';
export { Counter, Gauge, Histogram, type GaugeOptions, type HistogramOptions, type LabelValues } from './metrics.ts';
export { CONTENT_TYPE } from './format.ts';
export { BATCH_SIZE_BUCKETS, DEFAULT_LATENCY_BUCKETS_MS } from './buckets.ts';
