import { describe, expect, it } from 'vitest';
import { RateLimitedLog } from './rate-limited-log.ts';

describe('RateLimitedLog', () => {
  it('writes a key once per window, then says how many were held back', () => {
    let now = 0;
    const lines: string[] = [];
    const log = new RateLimitedLog({ windowMs: 1000, now: () => now, sink: { warn: (m) => lines.push(`W ${m}`), error: (m) => lines.push(`E ${m}`) } });
    expect(log.warn('pool-a', 'a is down')).toBe(true);
    for (let i = 0; i < 5; i++) expect(log.warn('pool-a', 'a is down')).toBe(false);
    log.error('pool-b', 'b answered unsigned'); // another key is not held back
    now = 999;
    log.warn('pool-a', 'a is down');
    now = 1500;
    log.warn('pool-a', 'a is still down');
    log.warn('pool-a', 'a is still down');
    now = 5000;
    log.warn('pool-a', 'a is down again');
    expect(lines).toEqual(['W a is down', 'E b answered unsigned', 'W a is still down [6 more like this in the 2 s before, not logged in full]', 'W a is down again [1 more like this in the 4 s before, not logged in full]']);
  });

  it('writes a short stand-in per held-back line when asked, naming the line that has the detail', () => {
    let now = 0;
    const lines: string[] = [];
    const log = new RateLimitedLog({ windowMs: 1000, now: () => now, sink: { warn: (m) => lines.push(m), error: (m) => lines.push(m) } });
    const fail = (id: string) => log.error('503 pool down', `[${id}] pool down: http://pool-a:7700 refused`, { ref: id, line: (first) => `[${id}] same as ${first}` });
    fail('r1');
    fail('r2');
    now = 2000;
    fail('r3');
    fail('r4');
    expect(lines).toEqual(['[r1] pool down: http://pool-a:7700 refused', '[r2] same as r1', '[r3] pool down: http://pool-a:7700 refused [1 more like this in the 2 s before, not logged in full]', '[r4] same as r3']);
  });

  it('remembers a bounded number of keys', () => {
    const lines: string[] = [];
    const log = new RateLimitedLog({ maxKeys: 2, sink: { warn: (m) => lines.push(m), error: (m) => lines.push(m) } });
    log.warn('a', 'a');
    log.warn('b', 'b');
    log.warn('c', 'c'); // forgets a
    log.warn('a', 'a again');
    log.warn('c', 'c again');
    expect(lines).toEqual(['a', 'b', 'c', 'a again']);
  });
});
