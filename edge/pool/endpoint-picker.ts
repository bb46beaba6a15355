// Picks the pool endpoint for the next attempt: weighted random among those whose breaker lets
// a request through, preferring the caller's region when an endpoint is there, never one
// already tried for this request unless nothing else is left. When every circuit is open it
// picks none: the caller answers 503 at once rather than spend the deadline on dead routers.
import type { PoolEndpoint } from '../config/index.ts';
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './circuit-breaker.ts';

export interface TrackedEndpoint extends PoolEndpoint {
  breaker: CircuitBreaker;
}

export class EndpointPicker {
  readonly endpoints: TrackedEndpoint[];

  constructor(
    endpoints: PoolEndpoint[],
    breaker: BreakerOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.endpoints = endpoints.map((e) => ({ ...e, breaker: new CircuitBreaker(breaker) }));
  }

  /**
   * The endpoint to try next: an untried one whose circuit lets a request through (closed, or
   * the half-open probe), undefined when there is none.
   */
  pick(tried: ReadonlySet<TrackedEndpoint>, region?: string): TrackedEndpoint | undefined {
    const untried = this.endpoints.filter((e) => !tried.has(e) && e.breaker.state !== 'open');
    const local = region ? untried.filter((e) => e.region === region) : [];
    for (const pool of [local, untried]) {
      const chosen = this.weighted(pool);
      if (chosen) return chosen;
    }
    return undefined;
  }

  /** Milliseconds until some endpoint outside `excluded` takes a request (0: now; Infinity: none ever). */
  waitMs(excluded: ReadonlySet<TrackedEndpoint> = new Set()): number {
    return Math.min(...this.endpoints.filter((e) => !excluded.has(e)).map((e) => Math.max(0, e.breaker.waitMs())));
  }

  states(): { url: string; region?: string; weight: number; breaker: BreakerState }[] {
    return this.endpoints.map((e) => ({ url: e.url, ...(e.region !== undefined ? { region: e.region } : {}), weight: e.weight, breaker: e.breaker.state }));
  }

  // Draws by weight; an endpoint whose half-open probe is taken is passed over for the next draw.
  private weighted(candidates: TrackedEndpoint[]): TrackedEndpoint | undefined {
    const left = [...candidates];
    while (left.length > 0) {
      const total = left.reduce((s, e) => s + e.weight, 0);
      let r = this.random() * total;
      let i = 0;
      while (i < left.length - 1 && r >= left[i].weight) r -= left[i++].weight;
      if (left[i].breaker.tryAcquire()) return left[i];
      left.splice(i, 1);
    }
    return undefined;
  }
}
