// The shard-host role of a pool node: shard-search and evidence over locally held shards.
export { ShardHost } from './shard-host.ts';
export { ShardSlot } from './shard-slot.ts';
