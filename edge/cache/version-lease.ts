// The index version this isolate may serve cached answers of: the pool's promise, carried by
// every result frame (`versionLeaseMs`, counted from when the frame was sent), that it keeps
// serving that version. A swap in the pool waits until its promises have ended, so while the
// lease holds, the version is still served; once it ends the next request goes to the pool.
export class VersionLease {
  private version?: string;
  private until = -Infinity;
  private last?: string;

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
  }
}
