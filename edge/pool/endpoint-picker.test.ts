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
    expect(picker.pick(new Set([b, c]))!.url).toBe('http://a'); // all others tried or open: panic routing
    expect(picker.pick(new Set([a, b, c]))).toBeUndefined();
    expect(picker.states().map((s) => s.breaker)).toEqual(['open', 'closed', 'closed']);
  });
});
