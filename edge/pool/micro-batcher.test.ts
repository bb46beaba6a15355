import { describe, expect, it } from 'vitest';
import type { ResultFrame, SearchFrame } from '../../shared/protocol/index.ts';
import { MicroBatcher } from './micro-batcher.ts';

const timings = { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, totalMs: 1 };

/** A pool stand-in that answers each query with one hit naming its text, after `delayMs`. */
function recordingPool(delayMs: number, fail?: (frame: SearchFrame) => boolean, versionLeaseMs = 250) {
  const frames: SearchFrame[] = [];
  const sentAt: number[] = [];
  const send = async (frame: SearchFrame): Promise<{ frame: ResultFrame; sentAt: number }> => {
    frames.push(frame);
    const at = Date.now();
    sentAt.push(at);
    await new Promise((r) => setTimeout(r, delayMs));
    if (fail?.(frame)) throw new Error(`batch ${frame.batchId} failed`);
    return {
      frame: {
        v: 1,
        type: 'result',
        batchId: frame.batchId,
        indexVersion: 'v1',
        versionLeaseMs,
        timings,
        results: frame.queries.map((q) => ({ id: q.id, hits: [{ docId: q.text!, score: 1, shard: 0, title: '', text: '' }] })),
      },
      sentAt: at,
    };
  };
  return { frames, sentAt, send };
}

const query = (text: string) => ({ mode: 'bm25' as const, k: 1, text });

describe('MicroBatcher', () => {
  it('sends a lone query at once, and packs queries that arrive while a frame is out', async () => {
    const pool = recordingPool(20);
    let ids = 0;
    const batcher = new MicroBatcher({ windowMs: 5, maxQueries: 32, send: pool.send, newId: () => `b${ids++}` });
    const first = batcher.submit(query('a'), Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 2));
    const rest = ['b', 'c', 'd'].map((t) => batcher.submit(query(t), Date.now() + 1000));
    const results = await Promise.all([first, ...rest]);
    expect(pool.frames.map((f) => f.queries.map((q) => q.text))).toEqual([['a'], ['b', 'c', 'd']]);
    // Demultiplexed: each caller gets the result of its own query.
    expect(results.map((r) => r.result.hits[0].docId)).toEqual(['a', 'b', 'c', 'd']);
    expect(results.map((r) => r.batchSize)).toEqual([1, 3, 3, 3]);
    // The pool's version promise counts from when each frame left.
    expect(results.map((r) => r.versionUntil)).toEqual([pool.sentAt[0], ...Array(3).fill(pool.sentAt[1])].map((t) => t + 250));
    expect(batcher.stats).toEqual({ frames: 2, queries: 4, largest: 3 });
  });

  it('sends a full batch without waiting for the window', async () => {
    const pool = recordingPool(50);
    const batcher = new MicroBatcher({ windowMs: 10_000, maxQueries: 2, send: pool.send });
    const lone = batcher.submit(query('x'), Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 1));
    const t0 = Date.now();
    await Promise.all([batcher.submit(query('y'), Date.now() + 1000), batcher.submit(query('z'), Date.now() + 1000), lone]);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(pool.frames.map((f) => f.queries.length)).toEqual([1, 2]);
  });

  it('packs queries submitted in the same turn into one frame with the latest deadline', async () => {
    const pool = recordingPool(1);
    const batcher = new MicroBatcher({ windowMs: 5, maxQueries: 32, send: pool.send });
    await Promise.all([batcher.submit(query('p'), 1_000), batcher.submit(query('q'), 5_000)].map((p) => p.catch((e) => e)));
    expect(pool.frames).toHaveLength(1);
    expect(pool.frames[0].deadline).toBe(5_000);
    expect(pool.frames[0].queries.map((q) => q.id)).toEqual(['q0', 'q1']);
  });

  it('caps the pool version promise at maxVersionLeaseMs', async () => {
    const day = 24 * 3600 * 1000;
    const pool = recordingPool(1, undefined, day);
    const capped = await new MicroBatcher({ windowMs: 0, maxQueries: 32, send: pool.send, maxVersionLeaseMs: 5000 }).submit(query('a'), Date.now() + 1000);
    expect(capped.versionUntil).toBe(pool.sentAt[0] + 5000);
    const none = await new MicroBatcher({ windowMs: 0, maxQueries: 32, send: pool.send, maxVersionLeaseMs: 0 }).submit(query('b'), Date.now() + 1000);
    expect(none.versionUntil).toBe(pool.sentAt[1]);
    const short = await new MicroBatcher({ windowMs: 0, maxQueries: 32, send: recordingPool(1, undefined, 300).send, maxVersionLeaseMs: 5000 }).submit(query('c'), Date.now() + 1000);
    expect(short.versionUntil - Date.now()).toBeLessThanOrEqual(300);
  });

  it('fails only the queries of the frame that failed', async () => {
    const pool = recordingPool(10, (f) => f.queries.some((q) => q.text === 'bad'));
    const batcher = new MicroBatcher({ windowMs: 5, maxQueries: 2, send: pool.send });
    const a = batcher.submit(query('bad'), Date.now() + 1000);
    const b = batcher.submit(query('b'), Date.now() + 1000);
    const c = batcher.submit(query('c'), Date.now() + 1000);
    const settled = await Promise.allSettled([a, b, c]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(pool.frames.map((f) => f.queries.map((q) => q.text))).toEqual([['bad', 'b'], ['c']]);
  });

  it('passes on how many attempts delivering the frame took (1 when the sender does not say)', async () => {
    const pool = recordingPool(0);
    expect((await new MicroBatcher({ windowMs: 0, maxQueries: 32, send: pool.send }).submit(query('a'), Date.now() + 1000)).attempts).toBe(1);
    const retried = new MicroBatcher({ windowMs: 0, maxQueries: 32, send: async (f) => ({ ...(await pool.send(f)), attempts: 3 }) });
    expect((await retried.submit(query('b'), Date.now() + 1000)).attempts).toBe(3);
  });
});
