// Lease frames through the real transport, against a loopback server that answers as a pool
// router does: the frame names its class in a header, the answer must be a signed lease-result
// of the same batch, and the promise is capped as a search answer's is.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWER_SIGNATURE_HEADER, FRAME_CLASS_HEADER, decodeFrame, encodeFrame, importSigningKey, signAnswer, type Frame } from '../../shared/protocol/index.ts';
import { RateLimitedLog } from '../log/index.ts';
import { EndpointPicker } from './endpoint-picker.ts';
import { LeaseClient } from './lease-client.ts';
import { PoolTransport } from './pool-transport.ts';

type Answer = 'lease-result' | 'result' | 'unsigned' | 'other-batch';
let answer: Answer = 'lease-result';
let promiseMs = 1000;
const seen: { type: string; header: string | undefined }[] = [];
let server: http.Server;
let url: string;

beforeAll(async () => {
  const key = await importSigningKey('secret');
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const frame = decodeFrame(Buffer.concat(chunks));
      const batchId = (frame as { batchId: string }).batchId;
      seen.push({ type: frame.type, header: req.headers[FRAME_CLASS_HEADER] as string | undefined });
      const request = { timestamp: req.headers['x-edgesearch-timestamp'] as string, signature: req.headers['x-edgesearch-signature'] as string };
      const reply: Frame =
        answer === 'result'
          ? { v: 1, type: 'result', batchId, indexVersion: 'v7', results: [], timings: { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, totalMs: 0 } }
          : { v: 1, type: 'lease-result', batchId: answer === 'other-batch' ? 'another' : batchId, indexVersion: 'v7', versionLeaseMs: promiseMs };
      const bytes = encodeFrame(reply);
      const signature = answer === 'unsigned' ? {} : { [ANSWER_SIGNATURE_HEADER]: await signAnswer(key, request, bytes) };
      res.writeHead(200, { 'content-type': 'application/msgpack', ...signature }).end(bytes);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function client(maxVersionLeaseMs?: number) {
  const picker = new EndpointPicker([{ url, weight: 1 }], { failures: 100, cooldownMs: 60_000 });
  const transport = new PoolTransport(picker, { key: await importSigningKey('secret'), retryBaseMs: 1, log: new RateLimitedLog({ sink: { warn: () => {}, error: () => {} } }) });
  return new LeaseClient({ send: (frame, region) => transport.send(frame, region), ...(maxVersionLeaseMs !== undefined ? { maxVersionLeaseMs } : {}) });
}

describe('LeaseClient', () => {
  it('sends a lease frame under its class header and takes the promise from when it was sent', async () => {
    answer = 'lease-result';
    promiseMs = 1000;
    seen.length = 0;
    const leases = await client();
    const before = Date.now();
    const got = await leases.ask(Date.now() + 2000);
    expect(seen).toEqual([{ type: 'lease', header: 'lease' }]);
    expect(got.indexVersion).toBe('v7');
    expect(got.versionUntil).toBeGreaterThanOrEqual(before + 1000);
    expect(got.versionUntil).toBeLessThanOrEqual(Date.now() + 1000);
    expect(leases.stats).toEqual({ answered: 1, failed: 0 });
  });

  it('caps the promise at MAX_VERSION_LEASE_MS', async () => {
    answer = 'lease-result';
    promiseMs = 86_400_000;
    const got = await (await client(500)).ask(Date.now() + 2000);
    expect(got.versionUntil).toBeLessThanOrEqual(Date.now() + 500);
  });

  it.each<[Answer, RegExp]>([
    ['result', /refused|answered a result frame to a lease/],
    ['unsigned', /not authenticated/],
    ['other-batch', /answered batch "another"/],
  ])('believes no %s answer', async (kind, message) => {
    answer = kind;
    const leases = await client();
    await expect(leases.ask(Date.now() + 300)).rejects.toThrow(message);
    expect(leases.stats.failed).toBe(1);
  });
});
