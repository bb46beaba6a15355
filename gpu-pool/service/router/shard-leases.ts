import { randomUUID } from 'node:crypto';
import { ProtocolError } from '../../../shared/protocol/index.ts';
import type { ReplicaSet } from './replica-set.ts';
import type { ReplicaVersions } from './replica-versions.ts';

/** Every shard's current version, and until when (performance.now() ms) all of them promised it. */
export interface ShardLeases {
  versions: Map<number, string>;
  until: number;
}

/**
 * Asks one replica of every shard (hedged and retried as searches are) for the version it
 * serves and its promise, with `shard-lease` frames: no encoder, no batch, no admission queue.
 * A version some shard cannot confirm is no version, so any shard failing fails the whole
 * lease: 'deadline' when time ran out, 'not-ready' otherwise (the edge then asks with a search).
 */
export async function askShardLeases(shards: readonly ReplicaSet[], deadline: number, batchId: string, replicaVersions?: ReplicaVersions): Promise<ShardLeases> {
  // Asked of the replicas on the index version searches are pinned to, so both name the same version.
  const target = replicaVersions?.target();
  const versions = new Map<number, string>();
  // Each promise counts from before its frame left, so it never outlasts the host's.
  const sentAt = performance.now();
  let until = Infinity;
  const shardBatchId = randomUUID();
  await Promise.all(
    shards.map(async (set, shard) => {
      try {
        const reply = await set.call(
          async (c, signal) => {
            const askedAt = performance.now();
            const answer = await c.lease({ v: 1, type: 'shard-lease', batchId: shardBatchId, deadline, shard }, signal);
            if (answer.indexVersion !== undefined) replicaVersions?.record(shard, c.node, answer.indexVersion, askedAt);
            return answer;
          },
          deadline,
          target === undefined ? undefined : replicaVersions!.nodesOn(shard, target),
        );
        versions.set(shard, reply.version);
        until = Math.min(until, sentAt + reply.leaseMs);
      } catch (err) {
        const code = (err as { code?: unknown }).code === 'deadline' ? 'deadline' : 'not-ready';
        throw new ProtocolError(code, `shard ${shard}: no replica confirmed its version (${(err as Error).message})`, { batchId, cause: err });
      }
    }),
  );
  return { versions, until: Number.isFinite(until) ? until : sentAt };
}
