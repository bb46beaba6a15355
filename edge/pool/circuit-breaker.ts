// A circuit breaker per pool endpoint: after `failures` consecutive failures the endpoint is
// skipped for `cooldownMs`; then one request may probe it (half-open) and its outcome closes
// or re-opens the circuit. Keeps an isolate from spending each request's deadline on a dead node,
// and lets the edge answer 503 at once when every circuit is open.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  failures: number;
  cooldownMs: number;
  now?: () => number;
}

export class CircuitBreaker {
  private consecutive = 0;
  private openedAt = -Infinity;
  /** When the half-open probe was handed out; undefined when none is out. */
  private probeAt?: number;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.consecutive < this.opts.failures) return 'closed';
    return this.now() - this.openedAt >= this.opts.cooldownMs ? 'half-open' : 'open';
  }

  /**
   * A probe claim lapses after a cooldown: a probe whose request was cancelled (workerd ends
   * requests that hang) never reports back, and must not hold the circuit shut for good.
   */
  private get probing(): boolean {
    return this.probeAt !== undefined && this.now() - this.probeAt < this.opts.cooldownMs;
  }

  /** Whether a request may go to this endpoint now; claims the single half-open probe. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probeAt = this.now();
    return true;
  }

  /** Milliseconds until a request may go to this endpoint (0: now). */
  waitMs(): number {
    const state = this.state;
    if (state === 'closed') return 0;
    if (state === 'open') return this.openedAt + this.opts.cooldownMs - this.now();
    return this.probing ? this.probeAt! + this.opts.cooldownMs - this.now() : 0;
  }

  success(): void {
    this.consecutive = 0;
    this.probeAt = undefined;
  }

  failure(): void {
    this.probeAt = undefined;
    this.consecutive++;
    if (this.consecutive >= this.opts.failures) this.openedAt = this.now();
  }

  /** The attempt said nothing about the endpoint (it never left): hand a probe claim back. */
  release(): void {
    this.probeAt = undefined;
  }
}
