import { collectDefaultMetrics, Registry } from 'prom-client';

/** Text exposition format 0.0.4, what Prometheus scrapes by default. */
export const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

let shared: Registry | undefined;

/**
 * prom-client's default metrics (process CPU and memory, file descriptors, GC, event-loop lag,
 * heap). They describe the process, not a node, and their collectors (a GC observer, an
 * event-loop delay monitor) cannot be stopped: collected once per process and shared by every
 * registry, so several nodes in one process (tests) add no observers and report the same values.
 */
function processMetrics(): Registry {
  if (shared === undefined) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}

export interface RegistryOptions {
  /** Also serve the process metrics (default true). */
  processMetrics?: boolean;
}

/**
 * A registry of its own (never prom-client's global one), so that several nodes in one process
 * each register the same metric names without clashing.
 */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true) {
    const source = processMetrics();
    for (const { name } of source.getMetricsAsArray()) registry.registerMetric(source.getSingleMetric(name)!);
  }
  return registry;
}
