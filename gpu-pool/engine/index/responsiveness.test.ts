import { describe, expect, it } from 'vitest';
import { FaissIndex, getThreads, setThreads } from './index.ts';
import { clustered, gaussian } from './test-helpers.ts';

/** Runs `work` while a 5 ms interval ticks; returns how the event loop fared. */
async function underTimer(work: () => Promise<unknown>): Promise<{ ms: number; ticks: number; maxGap: number }> {
  let ticks = 0;
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 5);
  const t0 = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return { ms: performance.now() - t0, ticks, maxGap };
}

describe('heavy calls leave the event loop free', () => {
  it('setThreads / getThreads', () => {
    setThreads(2);
    expect(getThreads()).toBe(2);
    setThreads(1); // one OpenMP thread: the JS thread keeps a core on this 2-core machine
    expect(getThreads()).toBe(1);
    expect(FaissIndex.getThreads()).toBe(1);
  });

  it('a timer keeps firing during a large train and a large search', async () => {
    const d = 64;
    const xb = clustered(40_000, d, 300, 31);
    const index = FaissIndex.create(d, 'IVF512,Flat', 'l2');
    const train = await underTimer(() => index.train(xb));
    await index.add(xb);
    const flat = FaissIndex.create(d, 'Flat', 'ip');
    await flat.add(xb);
    const queries = gaussian(1500, d, 32);
    const search = await underTimer(() => Promise.all([flat.search(queries, 10), index.search(queries, 10, { nprobe: 64 })]));
    for (const r of [train, search]) {
      // only meaningful when the call took a while
      expect(r.ms).toBeGreaterThan(150);
      expect(r.ticks).toBeGreaterThan(r.ms / 5 / 4);
      expect(r.maxGap).toBeLessThan(300);
    }
  });
});
