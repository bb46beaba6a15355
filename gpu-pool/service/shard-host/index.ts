// The shard-host role of a pool node: shard-search and evidence over locally held shards.
export { ShardHost, type HostOptions, type SwapOptions } from './shard-host.ts';
export { ShardSlot } from './shard-slot.ts';
export { SWAP_REASONS, SwapRefused, checkSwapTarget, type ServedIndex, type SwapReason, type SwapRequest, type SwapTarget } from './swap-policy.ts';
export { reverifyShard, type ShardProblem } from './reverify.ts';
