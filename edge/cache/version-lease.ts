// The index version this isolate may serve cached answers of: the pool's promise, carried by
// every pool answer (a search's result frame or a lease frame's answer: `versionLeaseMs`,
// counted from when the frame was sent), that it keeps serving that version. A swap in the pool
// waits until its promises have ended, so while the lease holds, the version is still served.
// Under steady traffic a hit renews the promise in the background (a lease frame, which the pool
// answers outside its batcher and admission queue) once half of it is spent; once a promise has
// lapsed all the same (the pool was unreachable), hits wait for one renewal that every request
// of the isolate shares. The micro-batcher and the lease client cap each promise at
// MAX_VERSION_LEASE_MS before it gets here: a pool that promises too long (misconfigured)
// cannot keep a version it has left in the edge's service for long.
export class VersionLease {
  private version?: string;
  private until = -Infinity;
  private renewedAt = -Infinity;
  private last?: string;
  /** The renewal under way: one per isolate at a time, shared by whoever waits for it. */
  private renewing?: Promise<void>;

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
   * Starts `renewal` (a pool call whose answer renews the lease) once at most half of the
   * promise is left, unless one is under way; returns its promise (it never rejects), or
   * undefined when no renewal is due.
   */
  refreshIfDue(renewal: () => Promise<unknown>): Promise<void> | undefined {
    const now = this.now();
    if (this.renewing || !(now < this.until) || this.until - now > (this.until - this.renewedAt) / 2) return undefined;
    return this.renewNow(renewal);
  }

  /**
   * The renewal under way, or `renewal` started now: however many requests ask, the pool gets
   * one call per isolate at a time. Never rejects; what the answer promised is in current().
   */
  renewNow(renewal: () => Promise<unknown>): Promise<void> {
    if (this.renewing) return this.renewing;
    // (A renewal that throws as it starts fails like one that rejects.)
    const run: Promise<void> = new Promise<unknown>((resolve) => resolve(renewal()))
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        if (this.renewing === run) this.renewing = undefined;
      });
    this.renewing = run;
    return run;
  }
}
