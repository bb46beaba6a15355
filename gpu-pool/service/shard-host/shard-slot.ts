import type { LoadedShard } from '../../engine/shard/index.ts';

export interface SlotOptions {
  /**
   * How long each answer promises that this slot keeps serving the version it answered with.
   * Caches (the edge's) may serve that version's results until the promise ends; a swap waits
   * until every promise given has ended. 0: no promises, swaps are immediate.
   */
  versionLeaseMs: number;
  /** Monotonic clock in ms (injected for tests). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * One shard number's current version plus the versions being retired. A request holds a
 * lease on the version it started with, so a hot swap never pulls a shard out from under it;
 * the old version is closed when its last lease ends.
 *
 * Every answer also carries a version promise (`promise()`): a swap first stops extending
 * promises, waits until the last one has ended, and only then serves the new version, so no
 * holder of a promise can see the old version outlive it.
 */
export class ShardSlot {
  private current: { shard: LoadedShard; leases: number };
  private readonly retiring = new Set<{ shard: LoadedShard; leases: number }>();
  /** When the latest promise given for the current version ends (monotonic ms). */
  private promisedUntil = 0;
  /** Set while a swap waits for promises to end: no promise reaches past it. */
  private switchAt?: number;
  /** Swaps of this slot run one after another. */
  private swapping: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    readonly shardNo: number,
    shard: LoadedShard,
    private readonly close: (shard: LoadedShard) => Promise<void>,
    private readonly opts: SlotOptions = { versionLeaseMs: 0 },
  ) {
    this.current = { shard, leases: 0 };
    this.now = opts.now ?? (() => performance.now());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
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

  /**
   * Promises, from now, how many ms more `version` stays served here: 0 when it is no longer
   * the current version, never past a pending swap.
   */
  promise(version: string): number {
    if (version !== this.version) return 0;
    const now = this.now();
    if (this.switchAt !== undefined) return Math.max(0, this.switchAt - now);
    this.promisedUntil = Math.max(this.promisedUntil, now + this.opts.versionLeaseMs);
    return this.opts.versionLeaseMs;
  }

  /**
   * Makes `next` current once every promise given for the current version has ended; the
   * previous version closes once no request uses it. Resolves when `next` is served.
   */
  swap(next: LoadedShard): Promise<void> {
    const run = this.swapping.then(async () => {
      this.switchAt = Math.max(this.promisedUntil, this.now());
      try {
        for (let wait = this.switchAt - this.now(); wait > 0; wait = this.switchAt - this.now()) await this.sleep(wait);
        const old = this.current;
        this.current = { shard: next, leases: 0 };
        this.promisedUntil = 0;
        if (old.leases === 0) await this.close(old.shard);
        else this.retiring.add(old);
      } finally {
        this.switchAt = undefined;
      }
    });
    this.swapping = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    await this.swapping;
    await this.close(this.current.shard);
    for (const entry of this.retiring) await this.close(entry.shard);
    this.retiring.clear();
  }
}
