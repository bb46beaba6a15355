// 10,000 fuzzed frames (signed, so they reach the decoder), plus unsigned and stale requests,
// at a real pool node: each is answered with an error frame (or 401), never a crash or a 5xx,
// and valid queries are still answered afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, frame as randomFrame } from '../../shared/protocol/arbitrary.test-support.ts';
import { decodeFrame, encodeFrame, FRAME_TYPES, importSigningKey, signatureHeaders, type Frame } from '../../shared/protocol/index.ts';
import type { PoolClient } from '../../gpu-pool/service/pool-client/index.ts';
import type { PoolNode } from '../../gpu-pool/service/server/index.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { SIGNING_KEY, startSoloNode } from './harness.ts';

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 10_000);
let node: PoolNode;
let client: PoolClient;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ node, client, close } = await startSoloNode(await fixtureIndex({ limit: 200, shards: 2 }), 2));
});
afterAll(async () => {
  await close?.();
});

const VALID: Extract<Frame, { type: 'search' }> = { v: 1, type: 'search', batchId: 'b', deadline: Date.now() + 60_000, queries: [{ id: 'q', mode: 'hybrid', k: 5, text: 'vitamin D deficiency' }] };

function mutate(rng: Rng, bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = Uint8Array.from(bytes);
  switch (rng.int(0, 3)) {
    case 0: // flip bytes
      for (let i = rng.int(1, 4); i > 0; i--) out[rng.int(0, out.length - 1)] = rng.int(0, 255);
      return out;
    case 1: // truncate
      return out.slice(0, rng.int(0, out.length - 1));
    case 2: // trailing garbage
      return Uint8Array.from([...out, ...Array.from({ length: rng.int(1, 16) }, () => rng.int(0, 255))]);
    default: // a huge declared length (array32 / str32 / bin32) at a random position
      out[rng.int(0, out.length - 1)] = rng.pick([0xdd, 0xdb, 0xc6]);
      return out;
  }
}

function fuzzBody(rng: Rng, i: number): Uint8Array<ArrayBuffer> {
  const kind = i % 5;
  if (kind === 0) return Uint8Array.from({ length: rng.int(0, 64) }, () => rng.int(0, 255));
  if (kind === 1 || kind === 2) return mutate(rng, encodeFrame({ ...VALID, deadline: Date.now() + 60_000 }));
  if (kind === 3) return mutate(rng, encodeFrame(randomFrame(rng, rng.pick(FRAME_TYPES))));
  // Well-formed frames of any type: the wrong ones must be refused, odd-but-valid ones answered.
  const f = randomFrame(rng, rng.pick(FRAME_TYPES));
  if ('deadline' in f) f.deadline = Date.now() + 60_000;
  return encodeFrame(f);
}

async function post(body: Uint8Array<ArrayBuffer>, headers: Record<string, string>): Promise<{ status: number; frame: Frame }> {
  const res = await fetch(`${node.url}/v1/batch`, { method: 'POST', body, headers: { 'content-type': 'application/msgpack', ...headers } });
  return { status: res.status, frame: decodeFrame(new Uint8Array(await res.arrayBuffer())) };
}

describe('pool node under fuzzed input', () => {
  it(`answers ${FRAMES} fuzzed signed frames with error frames or valid replies, never an internal error`, async () => {
    const key = await importSigningKey(SIGNING_KEY);
    const rng = new Rng(20261123);
    const bodies = Array.from({ length: FRAMES }, (_, i) => fuzzBody(rng, i));
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const { status, frame } = await post(body, await signatureHeaders(key, body));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status !== 200) {
          expect(frame.type).toBe('error');
          // A fuzzed deadline may have passed (504): that is an answer. A crash path (500) is not.
          expect(frame.type === 'error' && frame.code, JSON.stringify(frame)).not.toBe('internal');
        } else expect(['result', 'shard-result', 'evidence-result']).toContain(frame.type);
        expect(status).not.toBe(500);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    console.info(`fuzz: ${FRAMES} frames, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect([...statuses.values()].reduce((a, b) => a + b)).toBe(FRAMES);
    expect(statuses.get(400)).toBeGreaterThan(FRAMES / 2);
  });

  it('answers unsigned, stale, future-dated and wrongly signed frames with 401', async () => {
    const body = encodeFrame(VALID);
    const key = await importSigningKey(SIGNING_KEY);
    const wrongKey = await importSigningKey('another key');
    const cases: Record<string, string>[] = [
      {},
      await signatureHeaders(key, body, Date.now() - 5 * 60_000),
      await signatureHeaders(key, body, Date.now() + 5 * 60_000),
      await signatureHeaders(wrongKey, body),
      { ...(await signatureHeaders(key, body)), 'x-edgesearch-signature': 'zz' },
    ];
    for (const headers of cases) {
      const { status, frame } = await post(body, headers);
      expect(status).toBe(401);
      expect(frame).toMatchObject({ type: 'error', code: 'unauthorized' });
    }
    // A body changed after signing is refused too.
    const headers = await signatureHeaders(key, body);
    const tampered = encodeFrame({ ...VALID, queries: [{ id: 'q', mode: 'bm25', k: 100, text: 'other' }] });
    expect((await post(tampered, headers)).status).toBe(401);
  });

  it('refuses an oversized body with 413 before reading it whole (401 without signature headers)', async () => {
    const body = new Uint8Array(9 * 1024 * 1024);
    const signed = await signatureHeaders(await importSigningKey(SIGNING_KEY), body);
    const res = await fetch(`${node.url}/v1/batch`, { method: 'POST', body, headers: { 'content-type': 'application/msgpack', ...signed } });
    expect(res.status).toBe(413);
    const unsigned = await fetch(`${node.url}/v1/batch`, { method: 'POST', body, headers: { 'content-type': 'application/msgpack' } });
    expect(unsigned.status).toBe(401);
  });

  it('still answers valid queries and reports healthy', async () => {
    const r = await client.search([{ id: 'a', mode: 'dense', k: 3, text: 'vitamin D deficiency' }]);
    expect(r.results[0].hits).toHaveLength(3);
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
  });
});
