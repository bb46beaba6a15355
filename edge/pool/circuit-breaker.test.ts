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

  it('says how long until a request may go through', () => {
    let now = 0;
    const b = new CircuitBreaker({ failures: 1, cooldownMs: 100, now: () => now });
    expect(b.waitMs()).toBe(0);
    b.failure();
    now = 40;
    expect(b.waitMs()).toBe(60);
    now = 100;
    expect(b.waitMs()).toBe(0); // half-open, probe free
    expect(b.tryAcquire()).toBe(true);
    now = 150;
    expect(b.waitMs()).toBe(50); // the probe is out
  });

  it('takes back a probe whose attempt never left, and lets a lost probe lapse after a cooldown', () => {
    let now = 0;
    const b = new CircuitBreaker({ failures: 1, cooldownMs: 100, now: () => now });
    b.failure();
    now = 100;
    expect(b.tryAcquire()).toBe(true);
    b.release(); // e.g. the deadline passed before the request was sent
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    // This probe never reports (workerd cancelled its request): the circuit must not stay shut.
    now = 199;
    expect(b.tryAcquire()).toBe(false);
    now = 200;
    expect(b.tryAcquire()).toBe(true);
  });
});
