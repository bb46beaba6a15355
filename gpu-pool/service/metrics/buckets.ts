/** Request latency in milliseconds: sub-ms cache hits up to multi-second stragglers. */
export const DEFAULT_LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);

/** Items per accelerator batch; powers of two, like the batch sizes encoders are tuned for. */
export const BATCH_SIZE_BUCKETS: readonly number[] = Object.freeze([1, 2, 4, 8, 16, 32, 64, 128, 256]);
