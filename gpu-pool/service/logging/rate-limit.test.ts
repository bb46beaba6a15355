import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, rateLimited } from './index.ts';

function capture(windowMs?: number) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 'pool', env: {}, write: (l) => lines.push(JSON.parse(l)) });
  // Only what the tests compare: the message and its fields, not the time.
  const seen = () => lines.map(({ time: _t, name: _n, ...rest }) => rest);
  return { log: rateLimited(logger, windowMs === undefined ? {} : { windowMs }), seen };
}

describe('rateLimited', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the first occurrence at once and collapses the rest of the window into one line with a count', () => {
    const { log, seen } = capture();
    for (let i = 0; i < 985; i++) {
      log.warn('0/b', 'shard call failed', { shard: 0, peer: 'b', attempt: i });
      vi.advanceTimersByTime(20); // 985 failures over 19.7 s
    }
    // 0 s: the first; 10 s: what the first window held back; 20 s: the second window's.
    vi.advanceTimersByTime(300);
    expect(seen()).toEqual([
      { level: 'warn', msg: 'shard call failed', shard: 0, peer: 'b', attempt: 0 },
      { level: 'warn', msg: 'shard call failed', shard: 0, peer: 'b', attempt: 499, repeated: 499, windowMs: 10_000 },
      { level: 'warn', msg: 'shard call failed', shard: 0, peer: 'b', attempt: 984, repeated: 485, windowMs: 10_000 },
    ]); // 1 + 499 + 485 = 985: nothing lost
  });

  it('keeps keys and messages apart, and levels', () => {
    const { log, seen } = capture(1000);
    log.warn('0/b', 'shard call failed', { shard: 0 });
    log.warn('1/b', 'shard call failed', { shard: 1 });
    log.warn('0/b', 'shard missing from answers', { shard: 0 });
    log.error('0/b', 'shard call failed', { shard: 0 });
    log.warn('0/b', 'shard call failed', { shard: 0 });
    expect(seen().map((r) => [r.level, r.msg, r.shard])).toEqual([
      ['warn', 'shard call failed', 0],
      ['warn', 'shard call failed', 1],
      ['warn', 'shard missing from answers', 0],
      ['error', 'shard call failed', 0],
    ]);
    vi.advanceTimersByTime(1000);
    expect(seen().slice(4)).toEqual([{ level: 'warn', msg: 'shard call failed', shard: 0, repeated: 1, windowMs: 1000 }]);
  });

  it('forgets a key quiet for a whole window: its next occurrence is written at once', () => {
    const { log, seen } = capture(1000);
    log.warn('k', 'm', { n: 1 });
    vi.advanceTimersByTime(999);
    log.warn('k', 'm', { n: 2 }); // held
    vi.advanceTimersByTime(1); // window ends: summary, a second window starts
    vi.advanceTimersByTime(1000); // quiet: forgotten
    log.warn('k', 'm', { n: 3 });
    expect(seen()).toEqual([
      { level: 'warn', msg: 'm', n: 1 },
      { level: 'warn', msg: 'm', n: 2, repeated: 1, windowMs: 1000 },
      { level: 'warn', msg: 'm', n: 3 },
    ]);
    expect(vi.getTimerCount()).toBe(1); // the fresh window's; the old key's timer is gone
  });

  it('flush writes what is held back and stops every timer', () => {
    const { log, seen } = capture(10_000);
    log.warn('a', 'm');
    log.warn('a', 'm');
    log.warn('a', 'm');
    log.warn('b', 'm');
    log.flush();
    expect(seen()).toEqual([
      { level: 'warn', msg: 'm' },
      { level: 'warn', msg: 'm' },
      { level: 'warn', msg: 'm', repeated: 2, windowMs: 10_000 },
    ]);
    expect(vi.getTimerCount()).toBe(0);
    log.warn('a', 'm'); // a new window after the flush
    expect(seen()).toHaveLength(4);
  });

  it('refuses a window that is not a positive number', () => {
    const logger = createLogger({ name: 'pool', env: {}, write: () => {} });
    expect(() => rateLimited(logger, { windowMs: 0 })).toThrow(/windowMs must be a positive number/);
    expect(() => rateLimited(logger, { windowMs: Number.NaN })).toThrow(/windowMs/);
  });
});
