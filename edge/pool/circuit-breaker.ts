// A circuit breaker per pool endpoint: after `failures` consecutive failures the endpoint is
// skipped for `cooldownMs`; then one request may probe it (half-open) and its outcome closes
// or re-opens the circuit. Keeps an isolate from spending each request's deadline on a dead node.

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  failures: number;
  cooldownMs: number;
  now?: () => number;
}

export class CircuitBreaker {
  private consecutive = 0;
  private openedAt = -Infinity;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.consecutive < this.opts.failures) return 'closed';
    return this.now() - this.openedAt >= this.opts.cooldownMs ? 'half-open' : 'open';
  }

  /** Whether a request may go to this endpoint now; claims the single half-open probe. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.consecutive = 0;
    this.probing = false;
  }

  failure(): void {
    this.probing = false;
    this.consecutive++;
    if (this.consecutive >= this.opts.failures) this.openedAt = this.now();
  }
}
