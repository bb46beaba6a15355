import { describe, expect, it } from 'vitest';
import { EndpointPicker, type TrackedEndpoint } from './endpoint-picker.ts';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const breaker = { failures: 1, cooldownMs: 60_000 };

describe('EndpointPicker', () => {
  it('draws endpoints in proportion to their weights', () => {
    const picker = new EndpointPicker([{ url: 'http://a', weight: 3 }, { url: 'http://b', weight: 1 }], breaker, seeded(7));
    const counts = { 'http://a': 0, 'http://b': 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) counts[picker.pick(new Set())!.url]++;
    expect(counts['http://a'] / 4000).toBeGreaterThan(0.72);
    expect(counts['http://a'] / 4000).toBeLessThan(0.78);
  });

  it('prefers endpoints in the caller region, falls back to the others', () => {
    const picker = new EndpointPicker([{ url: 'http://eu', weight: 1, region: 'EU' }, { url: 'http://na', weight: 10, region: 'NA' }], breaker, seeded(1));
    for (let i = 0; i < 50; i++) expect(picker.pick(new Set(), 'EU')!.url).toBe('http://eu');
    const tried = new Set<TrackedEndpoint>([picker.endpoints[0]]);
    expect(picker.pick(tried, 'EU')!.url).toBe('http://na');
    expect(picker.pick(new Set(), 'AS')).toBeDefined();
  });

  it('skips endpoints already tried and endpoints whose circuit is open', () => {
    const picker = new EndpointPicker([{ url: 'http://a', weight: 1 }, { url: 'http://b', weight: 1 }, { url: 'http://c', weight: 1 }], breaker, seeded(3));
    const [a, b, c] = picker.endpoints;
    a.breaker.failure(); // open
    for (let i = 0; i < 50; i++) expect(picker.pick(new Set([b]))!.url).toBe('http://c');
    // The others tried, the last one open: none (the edge answers 503 rather than try a dead one).
    expect(picker.pick(new Set([b, c]))).toBeUndefined();
    expect(picker.pick(new Set([a, b, c]))).toBeUndefined();
    expect(picker.states().map((s) => s.breaker)).toEqual(['open', 'closed', 'closed']);
  });

  it('picks none while every circuit is open, and says how long until one half-opens', () => {
    let now = 0;
    const picker = new EndpointPicker([{ url: 'http://a', weight: 1 }, { url: 'http://b', weight: 1 }], { failures: 1, cooldownMs: 1000, now: () => now }, seeded(5));
    const [a, b] = picker.endpoints;
    expect(picker.waitMs()).toBe(0);
    a.breaker.failure();
    now = 300;
    b.breaker.failure();
    expect(picker.pick(new Set())).toBeUndefined();
    expect(picker.waitMs()).toBe(700); // a half-opens first
    expect(picker.waitMs(new Set([a]))).toBe(1000);
    expect(picker.waitMs(new Set([a, b]))).toBe(Infinity);
    now = 1000;
    expect(picker.pick(new Set())).toBe(a); // the probe
    expect(picker.pick(new Set())).toBeUndefined(); // one probe at a time
    expect(picker.waitMs()).toBe(300); // b half-opens at 1300
  });
});
