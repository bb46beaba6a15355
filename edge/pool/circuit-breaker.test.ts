import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.ts';

describe('CircuitBreaker', () => {
  it('opens after the configured consecutive failures, half-opens after the cooldown for one probe', () => {
    let now = 0;
    const b = new CircuitBreaker({ failures: 2, cooldownMs: 100, now: () => now });
    b.failure();
    expect(b.state).toBe('closed');
    b.success();
    b.failure();
    expect(b.state).toBe('closed'); // success reset the count
    b.failure();
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now = 99;
    expect(b.tryAcquire()).toBe(false);
    now = 100;
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // only one probe at a time
    b.failure();
    expect(b.state).toBe('open'); // the probe failed: another cooldown
    now = 200;
    expect(b.tryAcquire()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(true);
  });
});
