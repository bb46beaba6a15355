// The lease logic against a real RateLimiter object (its fetch handler called in-process, as
// the runtime would through a stub).
import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/index.ts';
import { RateLimitClient, leaseSize, type RateLimiterNamespace } from './rate-limit-client.ts';
import { RateLimiter } from './rate-limiter-object.ts';

function namespace() {
  const objects = new Map<string, RateLimiter>();
  let calls = 0;
  const ns: RateLimiterNamespace = {
    idFromName: (name) => name,
    get: (id) => ({
      fetch: (input, init) => {
        calls++;
        let obj = objects.get(id as string);
        if (!obj) objects.set(id as string, (obj = new RateLimiter()));
        return obj.fetch(new Request(input, init));
      },
    }),
  };
  return { ns, calls: () => calls };
}

const principal = (perSecond: number, burst: number, id = 'k'): Principal => ({ kind: 'key', id, scopes: ['search'], rate: { perSecond, burst } });

describe('RateLimitClient', () => {
  it('sizes leases at a tenth of a second of tokens, at most a tenth of the burst', () => {
    expect(leaseSize({ perSecond: 1000, burst: 100 })).toBe(10);
    expect(leaseSize({ perSecond: 50, burst: 1000 })).toBe(5);
    expect(leaseSize({ perSecond: 0.5, burst: 3 })).toBe(1);
  });

  it('spends leased tokens locally and asks the object once per lease', async () => {
    const { ns, calls } = namespace();
    const client = new RateLimitClient(ns);
    for (let i = 0; i < 100; i++) await client.take(principal(1000, 1000), 1);
    expect(calls()).toBe(1);
  });

  it('fetches one lease at a time: concurrent requests take only their cost', async () => {
    const { ns, calls } = namespace();
    const client = new RateLimitClient(ns);
    const p = principal(1000, 1000); // leases of 100
    const results = await Promise.allSettled(Array.from({ length: 64 }, () => client.take(p, 1)));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(calls()).toBe(64);
    // 100 leased by the first request + 63 single tokens were taken from the bucket of 1000;
    // the lease's 99 left are spent locally before the object is asked again.
    for (let i = 0; i < 99; i++) await client.take(p, 1);
    expect(calls()).toBe(64);
  });

  it('never admits more than the bucket holds, and refuses with Retry-After', async () => {
    const { ns } = namespace();
    const now = 0;
    const client = new RateLimitClient(ns, () => now);
    const p = principal(1, 20);
    let admitted = 0;
    let refusal: unknown;
    for (let i = 0; i < 30; i++) {
      try {
        await client.take(p, 1);
        admitted++;
      } catch (err) {
        refusal = err;
      }
    }
    expect(admitted).toBe(20);
    expect(refusal).toMatchObject({ code: 'rate_limited', status: 429, retryAfterS: 1 });
  });

  it('keeps each principal in its own bucket and refuses a cost above the burst', async () => {
    const { ns } = namespace();
    const client = new RateLimitClient(ns);
    await expect(client.take(principal(1, 2, 'a'), 3)).rejects.toMatchObject({ code: 'rate_limited', retryAfterS: undefined });
    await client.take(principal(1, 2, 'a'), 2);
    await client.take(principal(1, 2, 'b'), 2);
    await expect(client.take(principal(1, 2, 'a'), 1)).rejects.toMatchObject({ code: 'rate_limited' });
  });
});
