import { describe, expect, it } from 'vitest';
import { FeatureStore, fromHalf, halfBits, normalizeRows, roundToHalf, toHalf } from './features.ts';

describe('float16 storage', () => {
  it('round-trips every finite float16 value exactly', () => {
    const bits = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
    const back = toHalf(fromHalf(bits));
    expect(Array.from(back)).toEqual(Array.from(bits));
  });

  it('rounds to the nearest float16 (ties to even), saturating to infinity', () => {
    expect(fromHalf(Uint16Array.of(halfBits(1 + 2 ** -11)))[0]).toBe(1); // tie → even
    expect(fromHalf(Uint16Array.of(halfBits(1 + 3 * 2 ** -11)))[0]).toBe(1 + 2 ** -9); // tie → even (up)
    expect(fromHalf(Uint16Array.of(halfBits(70000)))[0]).toBe(Infinity);
    expect(fromHalf(Uint16Array.of(halfBits(2 ** -25)))[0]).toBe(0);
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 0.3);
    const r = roundToHalf(x.slice());
    for (let i = 0; i < x.length; i++) expect(Math.abs(r[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -11 + 2 ** -25);
  });
});

describe('FeatureStore', () => {
  it('keeps items as views, and normalises rows (zero rows stay zero)', () => {
    const s = new FeatureStore(3);
    const a = s.add(Float32Array.of(3, 4, 0, 0, 0, 0), 2);
    const b = s.add(new Float32Array(0), 0);
    expect([s.size, s.totalRows, s.rows(a), s.rows(b)]).toEqual([2, 2, 2, 0]);
    const v = s.view(a).slice();
    const inv = normalizeRows(v, 2, 3);
    expect(Array.from(v)).toEqual(Array.from(Float32Array.of(0.6, 0.8, 0, 0, 0, 0)));
    expect(Array.from(inv)).toEqual(Array.from(Float32Array.of(0.2, 0)));
  });
});
