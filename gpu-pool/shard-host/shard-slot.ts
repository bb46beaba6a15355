import type { LoadedShard } from '../shard/index.ts';

/**
 * One shard number's current version plus the versions being retired. A request holds a
 * lease on the version it started with, so a hot swap never pulls a shard out from under it;
 * the old version is closed when its last lease ends.
 */
export class ShardSlot {
  private current: { shard: LoadedShard; leases: number };
  private readonly retiring = new Set<{ shard: LoadedShard; leases: number }>();

  constructor(
    readonly shardNo: number,
    shard: LoadedShard,
    private readonly close: (shard: LoadedShard) => Promise<void>,
  ) {
    this.current = { shard, leases: 0 };
  }

  get version(): string {
    return this.current.shard.manifest.version;
  }

  get shard(): LoadedShard {
    return this.current.shard;
  }

  /** Runs `fn` on the current version; a swap during `fn` waits for it before closing. */
  async use<T>(fn: (shard: LoadedShard) => Promise<T>): Promise<T> {
    const entry = this.current;
    entry.leases++;
    try {
      return await fn(entry.shard);
    } finally {
      entry.leases--;
      if (entry.leases === 0 && this.retiring.delete(entry)) await this.close(entry.shard);
    }
  }

  /** Makes `next` current; the previous version closes once no request uses it. */
  async swap(next: LoadedShard): Promise<void> {
    const old = this.current;
    this.current = { shard: next, leases: 0 };
    if (old.leases === 0) await this.close(old.shard);
    else this.retiring.add(old);
  }

  async dispose(): Promise<void> {
    await this.close(this.current.shard);
    for (const entry of this.retiring) await this.close(entry.shard);
    this.retiring.clear();
  }
}
