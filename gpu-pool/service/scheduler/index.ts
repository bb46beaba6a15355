// Dynamic batching in front of the accelerator: bounded admission, deadline-aware batches.
export { DynamicBatcher, type BatchInfo, type DynamicBatcherOptions } from './batcher.ts';
export { DeadlineError, OverloadError, SchedulerError, type SchedulerErrorCode } from './errors.ts';
