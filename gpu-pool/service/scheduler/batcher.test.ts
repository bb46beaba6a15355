import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineError, DynamicBatcher, OverloadError, SchedulerError, type BatchInfo, type DynamicBatcherOptions } from './index.ts';

/** A `process` whose batches stay in flight until the test releases them. */
function gatedProcess() {
  const calls: { items: number[]; release: () => void; fail: (error: unknown) => void }[] = [];
  let active = 0;
  let maxActive = 0;
  const process = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      active++;
      maxActive = Math.max(maxActive, active);
      const done = () => active--;
      calls.push({
        items,
        release: () => {
          done();
          resolve(items.map((x) => x * 10));
        },
        fail: (error) => {
          done();
          reject(error);
        },
      });
    });
  return { calls, process, maxActive: () => maxActive };
}

/** Records how each promise settled, so tests can check "not yet" without racing. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

const tick = () => vi.advanceTimersByTimeAsync(0);
const FAR = () => Date.now() + 60_000;

function batcher(overrides: Partial<DynamicBatcherOptions<number, number>> & Pick<DynamicBatcherOptions<number, number>, 'process'>) {
  const batches: BatchInfo[] = [];
  const b = new DynamicBatcher<number, number>({
    maxBatchSize: 4,
    maxWaitMs: 10,
    maxQueue: 100,
    onBatch: (info) => batches.push(info),
    ...overrides,
  });
  return { b, batches };
}

describe('DynamicBatcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fills batches to maxBatchSize while the accelerator is busy', async () => {
    const gate = gatedProcess();
    const { b, batches } = batcher({ maxBatchSize: 8, maxWaitMs: 5, process: gate.process });

    const first = b.submit(1, FAR());
    await vi.advanceTimersByTimeAsync(5);
    expect(gate.calls.map((c) => c.items)).toEqual([[1]]);

    // 20 arrive while the lone first batch runs: they wait, then leave in full batches.
    const rest = Array.from({ length: 20 }, (_, i) => b.submit(100 + i, FAR()));
    expect(b.depth).toBe(20);
    expect(b.running).toBe(1);
    for (let i = 0; i < 3; i++) {
      gate.calls[i]!.release();
      await tick();
    }
    // The last 4 are a partial batch: they go once the oldest has waited maxWaitMs.
    expect(gate.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(5);
    gate.calls[3]!.release();

    expect(batches.map((x) => x.size)).toEqual([1, 8, 8, 4]);
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual(Array.from({ length: 20 }, (_, i) => (100 + i) * 10));
  });

  it('dispatches a full batch at once, without waiting for maxWaitMs', async () => {
    const gate = gatedProcess();
    const { b } = batcher({ maxBatchSize: 3, maxWaitMs: 1_000, process: gate.process });
    const out = [1, 2, 3].map((x) => b.submit(x, FAR()));
    expect(gate.calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
    gate.calls[0]!.release();
    expect(await Promise.all(out)).toEqual([10, 20, 30]);
  });

  it('dispatches a lone item once it has waited maxWaitMs', async () => {
    const gate = gatedProcess();
    const { b, batches } = batcher({ maxWaitMs: 50, process: gate.process });
    const out = b.submit(7, FAR());
    await vi.advanceTimersByTimeAsync(49);
    expect(gate.calls).toHaveLength(0);
    expect(b.depth).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(gate.calls.map((c) => c.items)).toEqual([[7]]);
    expect(batches).toEqual([{ size: 1, waitedMs: [50] }]);
    gate.calls[0]!.release();
    expect(await out).toBe(70);
  });

  it('groups same-tick submits even with maxWaitMs 0', async () => {
    const gate = gatedProcess();
    const { b } = batcher({ maxBatchSize: 8, maxWaitMs: 0, process: gate.process });
    const out = [1, 2, 3].map((x) => b.submit(x, FAR()));
    await tick();
    expect(gate.calls.map((c) => c.items)).toEqual([[1, 2, 3]]);
    gate.calls[0]!.release();
    expect(await Promise.all(out)).toEqual([10, 20, 30]);
  });

  it('with maxBatchSize 1 every batch holds one item', async () => {
    const seen: number[][] = [];
    const { b, batches } = batcher({
      maxBatchSize: 1,
      process: async (items) => {
        seen.push(items);
        return items.map((x) => x + 1);
      },
    });
    const out = Promise.all([1, 2, 3, 4, 5].map((x) => b.submit(x, FAR())));
    await vi.advanceTimersByTimeAsync(100);
    expect(await out).toEqual([2, 3, 4, 5, 6]);
    expect(seen).toEqual([[1], [2], [3], [4], [5]]);
    expect(batches.every((x) => x.size === 1)).toBe(true);
  });

  it('sheds beyond maxQueue with OverloadError and keeps serving', async () => {
    const gate = gatedProcess();
    let shed = 0;
    const { b } = batcher({ maxBatchSize: 1, maxQueue: 3, process: gate.process, onShed: () => shed++ });
    const running = b.submit(0, FAR()); // dispatched at once: a full batch of one
    const queued = [1, 2, 3].map((x) => b.submit(x, FAR()));
    expect(b.depth).toBe(3);

    const refused = await b.submit(4, FAR()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OverloadError);
    expect(refused).toBeInstanceOf(SchedulerError);
    expect((refused as OverloadError).code).toBe('overloaded');
    expect((refused as OverloadError).retryAfterMs).toBeGreaterThan(0);
    expect(shed).toBe(1);
    expect(b.depth).toBe(3);

    for (let i = 0; i < 4; i++) {
      gate.calls[i]!.release();
      await tick();
    }
    expect(await running).toBe(0);
    expect(await Promise.all(queued)).toEqual([10, 20, 30]);

    // Room again: new work is accepted and served.
    const again = b.submit(5, FAR());
    await tick();
    gate.calls[4]!.release();
    expect(await again).toBe(50);
  });

  it('estimates retryAfterMs from recent batch durations', async () => {
    const gate = gatedProcess();
    const { b } = batcher({ maxBatchSize: 1, maxQueue: 2, maxWaitMs: 1, process: gate.process });
    // One batch that takes 200 ms gives the estimate its history.
    const first = b.submit(0, FAR());
    await vi.advanceTimersByTimeAsync(200);
    gate.calls[0]!.release();
    await first;
    await tick(); // the slot frees just after the caller's promise settles

    const inFlight = b.submit(1, FAR());
    const queued = [2, 3].map((x) => b.submit(x, FAR()));
    const refused = (await b.submit(4, FAR()).catch((e: unknown) => e)) as OverloadError;
    // Two queued batches plus one running, ~200 ms each.
    expect(refused.retryAfterMs).toBe(600);
    for (let i = 1; i < 4; i++) {
      gate.calls[i]!.release();
      await tick();
    }
    await Promise.all([inFlight, ...queued]);
  });

  it('rejects an already expired submit with DeadlineError without computing it', async () => {
    const process = vi.fn(async (items: number[]) => items);
    const { b } = batcher({ process });
    const err = await b.submit(1, Date.now() - 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineError);
    expect((err as DeadlineError).code).toBe('deadline');
    await vi.advanceTimersByTimeAsync(100);
    expect(process).not.toHaveBeenCalled();
    expect(b.depth).toBe(0);
  });

  it('drops items that expire while queued, never passing them to process', async () => {
    const gate = gatedProcess();
    const expired: number[] = [];
    const { b } = batcher({ maxBatchSize: 4, process: gate.process, onExpired: (n) => expired.push(n) });
    const blocker = [0, 1, 2, 3].map((x) => b.submit(x, FAR()));
    const t0 = Date.now();
    const short = [10, 11].map((x) => track(b.submit(x, t0 + 100)));
    const long = [20, 21].map((x) => b.submit(x, t0 + 10_000));

    await vi.advanceTimersByTimeAsync(500); // the short deadlines pass while the first batch runs
    gate.calls[0]!.release();
    await tick();

    expect(gate.calls.map((c) => c.items)).toEqual([
      [0, 1, 2, 3],
      [20, 21],
    ]);
    expect(short.every((s) => s.error instanceof DeadlineError)).toBe(true);
    expect(expired).toEqual([2]);
    gate.calls[1]!.release();
    expect(await Promise.all(long)).toEqual([200, 210]);
    await Promise.all(blocker);
  });

  it('fails only the items of a failing batch', async () => {
    const { b } = batcher({
      maxBatchSize: 2,
      process: async (items) => {
        if (items.includes(-1)) throw new Error('encoder exploded');
        return items.map((x) => x * 2);
      },
    });
    const bad = [b.submit(1, FAR()), b.submit(-1, FAR())].map(track);
    const good = Promise.all([b.submit(3, FAR()), b.submit(4, FAR())]);
    await vi.advanceTimersByTimeAsync(50);
    expect(bad.map((s) => (s.error as Error | undefined)?.message)).toEqual(['encoder exploded', 'encoder exploded']);
    expect(await good).toEqual([6, 8]);
  });

  it('treats a synchronous throw in process as a batch failure', async () => {
    const { b } = batcher({
      maxBatchSize: 1,
      process: (items) => {
        if (items[0] === 1) throw new Error('sync boom');
        return Promise.resolve(items);
      },
    });
    const first = b.submit(1, FAR()).catch((e: Error) => e.message);
    const second = b.submit(2, FAR());
    await vi.advanceTimersByTimeAsync(50);
    expect(await first).toBe('sync boom');
    expect(await second).toBe(2);
  });

  it('rejects just the item whose result is an Error', async () => {
    const { b } = batcher({
      maxBatchSize: 3,
      process: async (items) => items.map((x) => (x === 2 ? (new Error('bad input 2') as unknown as number) : x * 10)),
    });
    const out = [1, 2, 3].map((x) => track(b.submit(x, FAR())));
    await vi.advanceTimersByTimeAsync(50);
    expect(out.map((s) => s.value)).toEqual([10, undefined, 30]);
    expect((out[1]!.error as Error).message).toBe('bad input 2');
  });

  it('rejects the whole batch when process returns the wrong number of outputs', async () => {
    const { b } = batcher({ maxBatchSize: 2, process: async () => [1] });
    const out = [1, 2].map((x) => track(b.submit(x, FAR())));
    await vi.advanceTimersByTimeAsync(50);
    expect(out.map((s) => (s.error as Error).message)).toEqual([
      'batch process returned 1 outputs for 2 items',
      'batch process returned 1 outputs for 2 items',
    ]);
  });

  it('drain waits for queued and in-flight work', async () => {
    const gate = gatedProcess();
    const { b } = batcher({ maxBatchSize: 2, process: gate.process });
    const out = [1, 2, 3].map((x) => b.submit(x, FAR()));
    const drained = track(b.drain());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(drained.settled).toBe(false);

    gate.calls[0]!.release();
    await tick();
    expect(drained.settled).toBe(false); // item 3 is now in flight
    expect(b.running).toBe(1);

    gate.calls[1]!.release();
    await tick();
    expect(drained.settled).toBe(true);
    expect(await Promise.all(out)).toEqual([10, 20, 30]);
    await expect(b.drain()).resolves.toBeUndefined();
  });

  it('close refuses new work but finishes what is queued, without waiting for maxWaitMs', async () => {
    const gate = gatedProcess();
    let shed = 0;
    const { b } = batcher({ maxBatchSize: 4, maxWaitMs: 60_000, process: gate.process, onShed: () => shed++ });
    const queued = [1, 2].map((x) => b.submit(x, FAR()));
    b.close();
    const refused = (await b.submit(3, FAR()).catch((e: unknown) => e)) as OverloadError;
    expect(refused).toBeInstanceOf(OverloadError);
    expect(refused.message).toBe('shutting down');
    expect(shed).toBe(1);

    expect(gate.calls.map((c) => c.items)).toEqual([[1, 2]]);
    const drained = b.drain();
    gate.calls[0]!.release();
    await drained;
    expect(await Promise.all(queued)).toEqual([10, 20]);
  });

  it('a batch takes items while their weight fits maxBatchWeight, and one item at least', async () => {
    const gate = gatedProcess();
    const { b } = batcher({ maxBatchSize: 4, maxWaitMs: 0, weigh: (x) => x, maxBatchWeight: 5, process: gate.process });
    const out = [b.submit(1, FAR())];
    await tick();
    expect(gate.calls.map((c) => c.items)).toEqual([[1]]);
    out.push(...[2, 3, 4, 9, 1].map((x) => b.submit(x, FAR())));
    expect(b.queuedWeight).toBe(19);
    gate.calls[0]!.release();
    await tick();
    // 2+3 fit 5; 4 does not fit after them; 9 alone is over the bound but a batch needs one item.
    expect(gate.calls.map((c) => c.items)).toEqual([[1], [2, 3]]);
    expect(b.queuedWeight).toBe(14);
    for (let i = 1; i < 4; i++) {
      gate.calls[i]!.release();
      await tick();
    }
    expect(gate.calls.map((c) => c.items)).toEqual([[1], [2, 3], [4], [9], [1]]);
    gate.calls[4]!.release();
    expect(await Promise.all(out)).toEqual([10, 20, 30, 40, 90, 10]);
    expect(b.queuedWeight).toBe(0);
  });

  it('a queue whose weight reaches maxBatchWeight dispatches without waiting for maxWaitMs', async () => {
    const gate = gatedProcess();
    const { b } = batcher({ maxBatchSize: 8, maxWaitMs: 60_000, weigh: () => 2, maxBatchWeight: 4, process: gate.process });
    b.submit(1, FAR());
    expect(gate.calls).toHaveLength(0);
    b.submit(2, FAR());
    expect(gate.calls.map((c) => c.items)).toEqual([[1, 2]]);
  });

  it('refuses an item whose weight is not a finite number >= 0', async () => {
    const gate = gatedProcess();
    const { b } = batcher({ weigh: (x) => (x < 0 ? NaN : x), process: gate.process });
    await expect(b.submit(-1, FAR())).rejects.toThrow(/weigh\(\) returned NaN/);
    expect(b.depth).toBe(0);
  });

  it('runs up to `concurrency` batches in parallel', async () => {
    const gate = gatedProcess();
    const { b } = batcher({ maxBatchSize: 2, concurrency: 2, process: gate.process });
    const out = [1, 2, 3, 4, 5, 6].map((x) => b.submit(x, FAR()));
    expect(b.running).toBe(2);
    expect(b.depth).toBe(2);
    expect(gate.calls.map((c) => c.items)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    // The second batch finishing first frees a slot without waiting on the first.
    gate.calls[1]!.release();
    await tick();
    expect(gate.calls.map((c) => c.items)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    gate.calls[0]!.release();
    gate.calls[2]!.release();
    expect(await Promise.all(out)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(gate.maxActive()).toBe(2);
  });

  it('with concurrency 1 never overlaps batches', async () => {
    const gate = gatedProcess();
    const { b } = batcher({ maxBatchSize: 2, process: gate.process });
    const out = [1, 2, 3, 4, 5, 6].map((x) => b.submit(x, FAR()));
    for (let i = 0; i < 3; i++) {
      expect(b.running).toBe(1);
      gate.calls[i]!.release();
      await tick();
    }
    await Promise.all(out);
    expect(gate.maxActive()).toBe(1);
  });

  it('keeps working when an observer hook throws', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const { b } = batcher({
      maxBatchSize: 1,
      process: async (items) => items,
      onBatch: () => {
        throw new Error('metrics down');
      },
    });
    const out = b.submit(9, FAR());
    await vi.advanceTimersByTimeAsync(10);
    expect(await out).toBe(9);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('metrics down'));
    warn.mockRestore();
  });

  it('validates its options', () => {
    const process = async (items: number[]) => items;
    expect(() => new DynamicBatcher({ maxBatchSize: 0, maxWaitMs: 1, maxQueue: 1, process })).toThrow(/maxBatchSize/);
    expect(() => new DynamicBatcher({ maxBatchSize: 1, maxWaitMs: -1, maxQueue: 1, process })).toThrow(/maxWaitMs/);
    expect(() => new DynamicBatcher({ maxBatchSize: 1, maxWaitMs: 1, maxQueue: 1.5, process })).toThrow(/maxQueue/);
    expect(() => new DynamicBatcher({ maxBatchSize: 1, maxWaitMs: 1, maxQueue: 1, concurrency: 0, process })).toThrow(/concurrency/);
  });
});

describe('DynamicBatcher on real timers', () => {
  // One end-to-end check without fake timers; margins are wide so a loaded CI box cannot flake it.
  it('serves concurrent submits in batches', async () => {
    const sizes: number[] = [];
    const b = new DynamicBatcher<number, number>({
      maxBatchSize: 16,
      maxWaitMs: 2,
      maxQueue: 1_000,
      process: async (items) => {
        sizes.push(items.length);
        await new Promise((r) => setTimeout(r, 5));
        return items.map((x) => -x);
      },
    });
    const out = await Promise.all(Array.from({ length: 100 }, (_, i) => b.submit(i, Date.now() + 60_000)));
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => -i));
    expect(sizes.reduce((a, c) => a + c, 0)).toBe(100);
    expect(Math.max(...sizes)).toBe(16);
    await b.drain();
    expect(b.depth + b.running).toBe(0);
  });
});
