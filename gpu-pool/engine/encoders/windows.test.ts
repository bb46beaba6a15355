import { describe, expect, it } from 'vitest';
import { splitWindows, truncateQuery, type WindowPlan } from './windows.ts';

const plan: WindowPlan = { maxTokens: 128, reserved: 0, windowSize: 120, stride: 80, titleMaxTokens: 24, fallbackToken: 30 };
const range = (from: number, n: number) => Int32Array.from({ length: n }, (_, i) => from + i);
const none = new Int32Array(0);

describe('splitWindows', () => {
  it('a short document is one window: prefix + title + body', () => {
    const w = splitWindows(Int32Array.of(7), range(100, 3), range(1000, 10), plan);
    expect(w).toHaveLength(1);
    expect(Array.from(w[0])).toEqual([7, 100, 101, 102, ...range(1000, 10)]);
  });

  it('an empty document still gives one window with one token', () => {
    expect(splitWindows(none, none, none, plan).map((w) => Array.from(w))).toEqual([[30]]);
    expect(splitWindows(none, range(5, 2), none, plan).map((w) => Array.from(w))).toEqual([[5, 6]]);
  });

  it('long bodies: overlapping windows, stride 80 of 120, title in every window, ≤ maxTokens', () => {
    const body = range(1000, 300);
    const w = splitWindows(none, none, body, plan);
    expect(w.map((x) => x[0] - 1000)).toEqual([0, 80, 160, 240]);
    expect(w.map((x) => x.length)).toEqual([120, 120, 120, 60]);
    const title = range(1, 40); // capped at 24
    const wt = splitWindows(none, title, body, plan);
    for (const x of wt) {
      expect(Array.from(x.subarray(0, 24))).toEqual(Array.from(range(1, 24)));
      expect(x.length).toBeLessThanOrEqual(128);
    }
    // 24 title tokens leave 104 for the body; the stride keeps its ratio: round(104 * 80/120) = 69.
    expect(wt.map((x) => x[24] - 1000)).toEqual([0, 69, 138, 207]);
    expect(wt[0].length).toBe(128);
  });

  it('covers every body token, in order', () => {
    for (const n of [1, 119, 120, 121, 200, 201, 999]) {
      const w = splitWindows(none, range(1, 5), range(10_000, n), { ...plan, reserved: 2 });
      const seen = new Set<number>();
      for (const x of w) for (const t of x.subarray(5)) seen.add(t);
      expect(seen.size).toBe(n);
      for (const x of w) expect(x.length + 2).toBeLessThanOrEqual(128);
    }
  });

  it('a title cannot take more than half the room', () => {
    const w = splitWindows(none, range(1, 100), range(1000, 500), { ...plan, titleMaxTokens: 100 });
    expect(w[0].length).toBe(128);
    expect(w[0][64]).toBe(1000);
  });
});

describe('truncateQuery', () => {
  it('cuts to the room left after special tokens; empty → fallback', () => {
    expect(truncateQuery(range(1, 200), { ...plan, reserved: 2 })).toHaveLength(126);
    expect(Array.from(truncateQuery(range(1, 3), plan))).toEqual([1, 2, 3]);
    expect(Array.from(truncateQuery(none, plan))).toEqual([30]);
  });
});
