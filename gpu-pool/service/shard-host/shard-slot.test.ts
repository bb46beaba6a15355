// The version promise of a shard slot, on a clock the test moves: answers promise their
// version for versionLeaseMs; a swap waits for the last promise, and promises given while it
// waits end at the switch.
import { describe, expect, it } from 'vitest';
import type { LoadedShard } from '../../engine/shard/index.ts';
import { ShardSlot } from './shard-slot.ts';

const shard = (version: string) => ({ manifest: { version } }) as unknown as LoadedShard;

function clockedSlot(versionLeaseMs: number) {
  const clock = { now: 0 };
  const sleeps: number[] = [];
  const closed: string[] = [];
  // Sleeping moves the clock: the swap's wait is observable without real time passing.
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.now += ms;
  };
  const slot = new ShardSlot(0, shard('v1'), async (s) => void closed.push(s.manifest.version), { versionLeaseMs, now: () => clock.now, sleep });
  return { slot, clock, sleeps, closed };
}

describe('ShardSlot version promises', () => {
  it('promises the current version for versionLeaseMs, and nothing for a version it has left', async () => {
    const { slot } = clockedSlot(1000);
    expect(slot.promise('v1')).toBe(1000);
    expect(slot.promise('v0')).toBe(0);
  });

  it('switches only once the last promise has ended', async () => {
    const { slot, clock, sleeps, closed } = clockedSlot(1000);
    clock.now = 100;
    slot.promise('v1'); // until 1100
    clock.now = 400;
    slot.promise('v1'); // until 1400
    clock.now = 500;
    await slot.swap(shard('v2'));
    expect(sleeps).toEqual([900]);
    expect(clock.now).toBe(1400);
    expect(slot.version).toBe('v2');
    expect(closed).toEqual(['v1']);
    expect(slot.promise('v1')).toBe(0);
    expect(slot.promise('v2')).toBe(1000);
  });

  it('while a swap waits, promises end at the switch instead of extending it', async () => {
    let now = 0;
    let wake!: () => void;
    const slot = new ShardSlot(0, shard('v1'), async () => {}, {
      versionLeaseMs: 1000,
      now: () => now,
      sleep: () => new Promise<void>((r) => (wake = r)),
    });
    slot.promise('v1'); // until 1000
    now = 200;
    const swapped = slot.swap(shard('v2'));
    await Promise.resolve();
    now = 700;
    expect(slot.promise('v1')).toBe(300); // not 1000: the switch is at 1000
    expect(slot.version).toBe('v1');
    now = 1000;
    wake();
    await swapped;
    expect(slot.version).toBe('v2');
  });

  it('swaps at once when it gives no promises, and runs swaps one after another', async () => {
    const { slot, sleeps } = clockedSlot(0);
    expect(slot.promise('v1')).toBe(0);
    await Promise.all([slot.swap(shard('v2')), slot.swap(shard('v3'))]);
    expect(sleeps).toEqual([]);
    expect(slot.version).toBe('v3');
  });

  it('keeps a version in use open until its last request ends, with no promise after the switch', async () => {
    const { slot, closed } = clockedSlot(0);
    let release!: () => void;
    const running = slot.use(() => new Promise<string>((r) => (release = () => r('done'))));
    await slot.swap(shard('v2'));
    expect(closed).toEqual([]);
    release();
    await running;
    expect(closed).toEqual(['v1']);
    expect(slot.promise('v1')).toBe(0);
  });
});
