import type { ResultFrame } from '../../../shared/protocol/index.ts';
import { rateLimited, type Logger, type RateLimitOptions } from '../logging/index.ts';
import { EvidenceVersionError, OtherIndexVersionError } from '../router/index.ts';
import type { PoolMetrics } from './pool-metrics.ts';

/**
 * What a router node says about failing shards: every event is counted in /metrics, and logged
 * at most once per kind, shard (and peer) and window, with a count of the rest, so that a node
 * down under load writes a few lines instead of one per call.
 */
export interface ShardErrorReporter {
  /** One call to one replica failed (a retry or hedge may still answer). */
  replicaFailed(shard: number, node: string, err: unknown): void;
  /** The router's `onShardError`: a shard gave no usable answer for a batch. */
  shardError(shard: number, err: unknown, stage: 'search' | 'evidence'): void;
  /** A search frame's answer: counts each result that misses a shard. */
  answered(frame: ResultFrame): void;
  /** Writes the summaries still held back (on shutdown). */
  flush(): void;
}

export function shardErrorReporter(metrics: PoolMetrics, log: Logger, options: RateLimitOptions = {}): ShardErrorReporter {
  const limited = rateLimited(log, options);
  return {
    replicaFailed(shard, node, err) {
      metrics.shardErrors.inc({ shard, node });
      limited.warn(`${shard}/${node}/${errorKind(err)}`, 'shard call failed', { shard, peer: node, err });
    },
    shardError(shard, err, stage) {
      if (err instanceof OtherIndexVersionError) {
        // Not an error: the batch goes again on the index version every shard now has.
        metrics.versionRepins.inc({ shard });
        limited.warn(String(shard), 'no replica on the pinned index version: searching the batch again', { shard, wanted: err.wanted, answered: err.answered });
        return;
      }
      if (err instanceof EvidenceVersionError) {
        metrics.evidenceVersionMismatches.inc({ shard });
        const msg = err.again ? 'evidence from another shard version: searching the batch again' : 'evidence from another shard version twice: shard left out';
        limited.warn(String(shard), msg, { shard, searched: err.searched, answered: err.answered });
        return;
      }
      limited.warn(`${shard}/${stage}/${errorKind(err)}`, 'shard missing from answers', { shard, stage, err });
    },
    answered(frame) {
      for (const r of frame.results) for (const shard of r.partial?.missingShards ?? []) metrics.missingShardResults.inc({ shard });
    },
    flush: () => limited.flush(),
  };
}

/** Failures of one kind collapse together; another kind (refused vs. timed out) is a new line. */
function errorKind(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' || typeof code === 'number') return String(code);
  return err instanceof Error ? err.name : typeof err;
}
