// Lease frames on a real pool node: answered (signed, bound to the request) however saturated
// the router is, while searches are shed unread; a frame must be of the class its header names,
// so the header cannot carry a search past shedding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANSWER_SIGNATURE_HEADER,
  FRAME_CLASS_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  decodeFrame,
  encodeFrame,
  importSigningKey,
  signatureHeaders,
  verifyAnswer,
  type Frame,
} from '../../../shared/protocol/index.ts';
import { fixtureIndex } from '../../../test/index-fixture.ts';
import { SIGNING_KEY, metricValue, startSoloNode, type SoloNode } from '../../../test/pool/harness.ts';
import { parseClusterConfig } from '../cluster/index.ts';
import { createLogger } from '../logging/index.ts';
import { PoolClient } from '../pool-client/index.ts';
import { PoolNode } from './index.ts';

let index: string;
let solo: SoloNode;
let key: CryptoKey;

beforeAll(async () => {
  index = await fixtureIndex({ limit: 200, shards: 2 });
  solo = await startSoloNode(index, 2);
  key = await importSigningKey(SIGNING_KEY);
}, 300_000);
afterAll(async () => {
  await solo?.close();
});

const lease = (): Frame => ({ v: 1, type: 'lease', batchId: 'l1', deadline: Date.now() + 5000 });
const search = (): Frame => ({ v: 1, type: 'search', batchId: 's1', deadline: Date.now() + 5000, queries: [{ id: 'q', mode: 'bm25', k: 3, text: 'cells' }] });
const shardLease = (shard: number): Frame => ({ v: 1, type: 'shard-lease', batchId: 'sl', deadline: Date.now() + 5000, shard });

/** Posts a signed frame with the class header `cls` (none when undefined); checks the answer's signature. */
async function post(frame: Frame, cls?: string, to = solo.node.url): Promise<{ status: number; frame: Frame }> {
  const body = encodeFrame(frame);
  const signed = await signatureHeaders(key, body);
  const res = await fetch(`${to}/v1/batch`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/msgpack', ...signed, ...(cls === undefined ? {} : { [FRAME_CLASS_HEADER]: cls }) },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const verdict = await verifyAnswer(key, { timestamp: signed[TIMESTAMP_HEADER], signature: signed[SIGNATURE_HEADER] }, res.headers.get(ANSWER_SIGNATURE_HEADER), bytes);
  expect(verdict.ok).toBe(true);
  return { status: res.status, frame: decodeFrame(bytes) };
}

describe('lease frames on a pool node', () => {
  it('answers a lease with the version a search answer names and its promise', async () => {
    const searched = await solo.client.search([{ id: 'q', mode: 'bm25', k: 3, text: 'cells' }]);
    const { status, frame } = await post(lease(), 'lease');
    expect(status).toBe(200);
    expect(frame).toMatchObject({ type: 'lease-result', batchId: 'l1', indexVersion: searched.indexVersion });
    expect((frame as { versionLeaseMs: number }).versionLeaseMs).toBeGreaterThan(0);
    const shard = await post(shardLease(1), 'shard');
    expect(shard.status).toBe(200);
    expect(shard.frame).toMatchObject({ type: 'shard-lease-result', shard: 1 });
    expect((await post(shardLease(7), 'shard')).frame).toMatchObject({ type: 'error', code: 'unknown-shard' });
  });

  it.each<[string, () => Frame, string | undefined]>([
    ['a lease without its header', lease, undefined],
    ['a search claiming to be a lease', search, 'lease'],
    ['a search claiming to be shard traffic', search, 'shard'],
    ['a shard lease claiming to be a lease', () => shardLease(0), 'lease'],
    ['a lease under a header no class has', lease, 'urgent'],
  ])('refuses %s (400 bad-frame)', async (_what, frame, cls) => {
    const { status, frame: answer } = await post(frame(), cls);
    expect(status).toBe(400);
    expect(answer).toMatchObject({ type: 'error', code: 'bad-frame' });
  });

  it('sheds searches unread when saturated, but answers leases and counts them', async () => {
    const before = await (await fetch(`${solo.node.url}/metrics`)).text();
    // Saturation on demand: the router's own estimate says the queue is too long.
    const router = (solo.node as unknown as { router: object }).router;
    Object.defineProperty(router, 'saturated', { get: () => true, configurable: true });
    try {
      expect((await post(search())).status).toBe(429);
      expect((await post(search(), 'lease')).status).toBe(400); // the header buys nothing
      for (let i = 0; i < 3; i++) expect((await post(lease(), 'lease')).frame.type).toBe('lease-result');
    } finally {
      delete (router as { saturated?: boolean }).saturated;
    }
    const after = await (await fetch(`${solo.node.url}/metrics`)).text();
    const count = (text: string, labels: Record<string, string>) => metricValue(text, 'edgesearch_requests_total', labels);
    expect(count(after, { type: 'lease', status: '200' }) - count(before, { type: 'lease', status: '200' })).toBe(3);
    expect(count(after, { type: 'search', status: '429' }) - count(before, { type: 'search', status: '429' })).toBe(1);
  });
});

describe('a lease on a router whose shard lives on another node', () => {
  it('asks that node with a shard-lease frame (shard traffic), and fails not-ready once it is gone', async () => {
    const logger = createLogger({ name: 'pool', level: 'silent' });
    const start = (nodes: object[], nodeId: string) =>
      PoolNode.start({ config: parseClusterConfig({ index, nodes, threads: 1 }, 'test config', '/'), nodeId, port: 0, host: '127.0.0.1', signingKey: SIGNING_KEY, logger });
    const holder = await start([{ id: 'a', url: 'http://127.0.0.1:1', shards: [0] }, { id: 'b', url: 'http://127.0.0.1:1', shards: [1], router: false }], 'b');
    const router = await start([{ id: 'a', url: 'http://127.0.0.1:1', shards: [0] }, { id: 'b', url: holder.url, shards: [1], router: false }], 'a');
    const client = await PoolClient.create(router.url, SIGNING_KEY);
    try {
      await Promise.all([holder.whenReady(), router.whenReady()]);
      const searched = await client.search([{ id: 'q', mode: 'bm25', k: 3, text: 'cells' }]);
      const { status, frame } = await post(lease(), 'lease', router.url);
      expect(status).toBe(200);
      expect(frame).toMatchObject({ type: 'lease-result', indexVersion: searched.indexVersion });
      const seen = await (await fetch(`${holder.url}/metrics`)).text();
      expect(metricValue(seen, 'edgesearch_requests_total', { type: 'shard-lease', status: '200' })).toBe(1);

      await holder.close();
      const gone = await post(lease(), 'lease', router.url);
      expect(gone.status).toBe(503);
      expect(gone.frame).toMatchObject({ type: 'error', code: 'not-ready', batchId: 'l1' });
    } finally {
      client.close();
      await router.close();
      await holder.close();
    }
  });
});
