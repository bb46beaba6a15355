// Everything an isolate keeps between requests: the parsed configuration, endpoint breakers,
// the micro-batcher, the version lease (and the lease client that renews it) and the
// coalescing table. Built on the first request
// and rebuilt only if the environment changes (a new deployment gets a new isolate anyway).
import { batchRequestSchema } from '../../shared/api/index.ts';
import { importSigningKey } from '../../shared/protocol/index.ts';
import { Authenticator } from '../auth/index.ts';
import { Coalescer, ResultCache, VersionLease, type CacheLike } from '../cache/index.ts';
import { ConversationClient } from '../conversation/index.ts';
import { parseEdgeConfig, type EdgeConfig, type EdgeEnv } from '../config/index.ts';
import { EndpointPicker, LeaseClient, MicroBatcher, PoolTransport, ReadinessProbe } from '../pool/index.ts';
import { RateLimitClient } from '../rate-limit/index.ts';
import { SearchService, type PoolAnswer } from '../search/index.ts';

export interface EdgeRuntime {
  config: EdgeConfig;
  auth: Authenticator;
  picker: EndpointPicker;
  readiness: ReadinessProbe;
  batcher: MicroBatcher;
  lease: VersionLease;
  /** Renews `lease` with lease frames; absent without a signing key or with MAX_VERSION_LEASE_MS 0. */
  leases?: LeaseClient;
  coalescer: Coalescer<PoolAnswer>;
  search: SearchService;
  /** The batch request schema for this configuration's MAX_BATCH_QUERIES (built once). */
  batchRequest: ReturnType<typeof batchRequestSchema>;
  /** Absent when the RATE_LIMITER binding is. */
  rateLimit?: RateLimitClient;
  /** Stored conversations; absent when the CONVERSATIONS binding is. */
  conversations?: ConversationClient;
}

let built: { env: EdgeEnv; runtime: Promise<EdgeRuntime> } | undefined;

/** The Workers default cache, absent outside workerd (then caching is off). */
function defaultCache(): CacheLike | undefined {
  const storage = (globalThis as { caches?: { default?: CacheLike } }).caches;
  return storage?.default;
}

export function edgeRuntime(env: EdgeEnv): Promise<EdgeRuntime> {
  if (built?.env !== env) {
    const runtime = create(env);
    built = { env, runtime };
    // A configuration error is reported on every request until the environment is fixed.
    runtime.catch(() => {
      if (built?.runtime === runtime) built = undefined;
    });
  }
  return built.runtime;
}

async function create(env: EdgeEnv): Promise<EdgeRuntime> {
  const config = parseEdgeConfig(env);
  const picker = new EndpointPicker(config.endpoints, { failures: config.breakerFailures, cooldownMs: config.breakerCooldownMs });
  const key = config.signingKey ? await importSigningKey(config.signingKey) : undefined;
  const transport = key ? new PoolTransport(picker, { key, retryBaseMs: config.retryBaseMs }) : undefined;
  const batcher = new MicroBatcher({
    windowMs: config.batchWindowMs,
    maxQueries: config.batchMaxQueries,
    maxVersionLeaseMs: config.maxVersionLeaseMs,
    send: async (frame, region) => {
      if (!transport) throw new Error('POOL_SIGNING_KEY is not set: the edge cannot sign requests to the pool');
      return transport.send(frame, region);
    },
  });
  const lease = new VersionLease();
  // No promise is believed with MAX_VERSION_LEASE_MS 0: renewing one would be a wasted call.
  const leases =
    transport && config.maxVersionLeaseMs > 0 ? new LeaseClient({ maxVersionLeaseMs: config.maxVersionLeaseMs, send: (frame, region) => transport.send(frame, region) }) : undefined;
  const coalescer = new Coalescer<PoolAnswer>();
  const cache = new ResultCache(defaultCache(), { ttlS: config.cacheTtlS, memoryEntries: config.memoryCacheEntries });
  return {
    config,
    auth: new Authenticator({
      keys: config.apiKeys,
      publicMode: config.publicMode,
      publicRate: config.publicRate,
      defaultRate: config.defaultRate,
      unknownClientRate: config.unknownClientRate,
      ipv6PrefixBits: config.publicIpv6PrefixBits,
    }),
    picker,
    readiness: new ReadinessProbe(picker, { ttlMs: 1000, timeoutMs: 1000 }),
    batcher,
    lease,
    ...(leases ? { leases } : {}),
    coalescer,
    batchRequest: batchRequestSchema(config.maxBatchQueries),
    search: new SearchService({ batcher, cache, lease, ...(leases ? { leases } : {}), coalescer, deadlineMs: config.requestDeadlineMs, retryBaseMs: config.retryBaseMs }),
    ...(env.RATE_LIMITER ? { rateLimit: new RateLimitClient(env.RATE_LIMITER) } : {}),
    ...(env.CONVERSATIONS ? { conversations: new ConversationClient(env.CONVERSATIONS, conversationTiming(config)) } : {}),
  };
}

/**
 * A turn is reserved for as long as its search can take (a lease renewal of a quarter of the
 * deadline, then the deadline and its grace) and some; a turn may wait for four such turns.
 */
function conversationTiming(config: EdgeConfig) {
  const leaseMs = Math.ceil(1.5 * config.requestDeadlineMs) + 1000;
  return { limits: config.conversations, leaseMs, waitMs: Math.min(600_000, 4 * leaseMs) };
}
