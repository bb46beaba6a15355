// The router role: dynamic batches encoded once, fanned out to one replica per shard, merged.
export { EvidenceVersionError } from './errors.ts';
export { ReplicaDeadlineError, ReplicaSet, type Preference, type ReplicaOptions } from './replica-set.ts';
export { OtherIndexVersionError, ReplicaVersions } from './replica-versions.ts';
export { Router, shardVersionsDigest, type RouterOptions } from './router.ts';
export { HttpShardClient, LocalShardClient, RemoteError, type ShardClient } from './shard-client.ts';
