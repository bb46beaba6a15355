// The index version this isolate may serve cached answers of: the pool's promise, carried by
// every result frame (`versionLeaseMs`, counted from when the frame was sent), that it keeps
// serving that version. A swap in the pool waits until its promises have ended, so while the
// lease holds, the version is still served; once it ends the next request goes to the pool.
// Under steady traffic a hit renews the promise in the background before it ends, so hits do
// not all turn into pool calls at once when it does. The micro-batcher caps each promise at
// MAX_VERSION_LEASE_MS before it gets here: a pool that promises too long (misconfigured)
// cannot keep a version it has left in the edge's service for long.
export class VersionLease {
  private version?: string;
  private until = -Infinity;
  private renewedAt = -Infinity;
  private last?: string;
  private refreshing?: Promise<unknown>;

  constructor(private readonly now: () => number = Date.now) {}

  /** The version, while the pool's promise holds; undefined when the pool must be asked. */
  current(): string | undefined {
    return this.now() < this.until ? this.version : undefined;
  }

  /** The version of the last pool answer, promised or not (for health). */
  get lastSeen(): string | undefined {
    return this.last;
  }

  /**
   * Takes the promise of a pool answer: `version` is served until `until` (ms, this clock's
   * time when the frame was sent plus the promise). The newest answer wins, unless its promise
   * has already ended.
   */
  renew(version: string, until: number): void {
    this.last = version;
    if (until <= this.now()) return;
    this.version = version;
    this.until = until;
    this.renewedAt = this.now();
  }

  /**
   * Starts `refresh` (a pool call whose answer renews the lease) once at most half of the
   * promise is left, one at a time; returns its promise (it never rejects), or undefined when
   * no refresh is due.
   */
  refreshIfDue(refresh: () => Promise<unknown>): Promise<unknown> | undefined {
    const now = this.now();
    if (this.refreshing || !(now < this.until) || this.until - now > (this.until - this.renewedAt) / 2) return undefined;
    const run: Promise<unknown> = refresh()
      .catch(() => undefined)
      .finally(() => {
        if (this.refreshing === run) this.refreshing = undefined;
      });
    this.refreshing = run;
    return run;
  }
}
