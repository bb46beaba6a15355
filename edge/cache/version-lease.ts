// The index version this isolate believes the pool serves. Every pool answer renews it (a new
// version replaces the old at once); once it is older than `ttlMs` the next request goes to the
// pool instead of the cache, so an isolate with no misses still notices an index swap within
// `ttlMs`.
export class VersionLease {
  private version?: string;
  private renewedAt = -Infinity;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The version, while the lease is fresh; undefined when the pool must be asked. */
  current(): string | undefined {
    return this.now() - this.renewedAt < this.ttlMs ? this.version : undefined;
  }

  /** The last version seen, fresh or not (for health). */
  get lastSeen(): string | undefined {
    return this.version;
  }

  renew(version: string): void {
    this.version = version;
    this.renewedAt = this.now();
  }
}
