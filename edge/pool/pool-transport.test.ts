// The transport against real HTTP servers on loopback that answer like pool routers do:
// signed result frames, error frames with their statuses, dropped connections, silence, and
// answers that must not be believed (unsigned, signed with another key, replayed from another
// request, about another batch).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ANSWER_SIGNATURE_HEADER, decodeFrame, encodeFrame, importSigningKey, signAnswer, verifySignature, type Frame, type SearchFrame } from '../../shared/protocol/index.ts';
import { ApiError } from '../../shared/api/index.ts';
import { RateLimitedLog } from '../log/index.ts';
import { EndpointPicker } from './endpoint-picker.ts';
import { PoolTransport } from './pool-transport.ts';

type Behaviour = 'ok' | 'refuse-queries' | 'slow-ok' | 'overloaded' | 'internal' | 'unauthorized' | 'drop' | 'silent' | 'unsigned' | 'wrong-key' | 'replay' | 'other-batch';
const servers: http.Server[] = [];

async function fakeRouter(behave: () => Behaviour, seen: SearchFrame[] = []): Promise<string> {
  const key = await importSigningKey('secret');
  const otherKey = await importSigningKey('not the secret');
  let previous: { body: Uint8Array; signature: string } | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const request = { timestamp: req.headers['x-edgesearch-timestamp'] as string, signature: req.headers['x-edgesearch-signature'] as string };
      const verdict = await verifySignature(key, request, body);
      const frame = decodeFrame(body) as SearchFrame;
      seen.push(frame);
      // As a pool node does: every answer signed, bound to the request it answers.
      const send = async (status: number, f: Frame, signWith: CryptoKey | null = key) => {
        const bytes = encodeFrame(f);
        const signature = signWith ? await signAnswer(signWith, request, bytes) : undefined;
        if (signature) previous = { body: bytes, signature };
        res.writeHead(status, { 'content-type': 'application/msgpack', ...(signature ? { [ANSWER_SIGNATURE_HEADER]: signature } : {}) }).end(bytes);
      };
      const result = (batchId = frame.batchId): Frame => ({ v: 1, type: 'result', batchId, indexVersion: 'v7', timings: { queueMs: 0, encodeMs: 0, searchMs: 0, mergeMs: 0, totalMs: 0 }, results: frame.queries.map((q) => ({ id: q.id, hits: [] })) });
      if (!verdict.ok) return send(401, { v: 1, type: 'error', code: 'unauthorized', message: verdict.reason });
      switch (behave()) {
        case 'ok':
          return send(200, result());
        case 'refuse-queries':
          // What a router answers queries its index cannot serve (mode colbert without a token store).
          return send(200, { ...(result() as Extract<Frame, { type: 'result' }>), results: frame.queries.map((q) => ({ id: q.id, hits: [], error: { code: 'bad-frame' as const, message: 'index v7 cannot answer mode "colbert"' } })) });
        case 'slow-ok':
          await new Promise((r) => setTimeout(r, 150));
          return send(200, result());
        case 'overloaded':
          return send(429, { v: 1, type: 'error', code: 'overloaded', message: 'busy', retryAfterMs: 5 });
        case 'internal':
          return send(500, { v: 1, type: 'error', code: 'internal', message: 'boom' });
        case 'unauthorized':
          return send(401, { v: 1, type: 'error', code: 'unauthorized', message: 'signature does not match' });
        case 'drop':
          return req.socket.destroy();
        case 'silent':
          return; // never answers
        case 'unsigned':
          return send(200, result(), null);
        case 'wrong-key':
          return send(200, result(), otherKey);
        case 'replay':
          // A genuine signed answer, to the request before this one.
          if (!previous) return send(500, { v: 1, type: 'error', code: 'internal', message: 'nothing to replay yet' });
          return res.writeHead(200, { 'content-type': 'application/msgpack', [ANSWER_SIGNATURE_HEADER]: previous.signature }).end(previous.body);
        case 'other-batch':
          return send(200, result('another-batch'));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const frame = (deadlineMs = 2000): SearchFrame => ({ v: 1, type: 'search', batchId: 'b1', deadline: Date.now() + deadlineMs, queries: [{ id: 'q0', mode: 'bm25', k: 3, text: 'x' }] });

async function transport(urls: string[], failures = 3, cooldownMs = 60_000) {
  const picker = new EndpointPicker(urls.map((url) => ({ url, weight: 1 })), { failures, cooldownMs });
  const logged: string[] = [];
  const log = new RateLimitedLog({ sink: { warn: (m) => logged.push(`warn ${m}`), error: (m) => logged.push(`error ${m}`) } });
  const fetched = { count: 0 };
  const counting: typeof fetch = (input, init) => (fetched.count++, fetch(input, init));
  const slept: number[] = [];
  const sleep = (ms: number) => (slept.push(ms), new Promise<void>((r) => setTimeout(r, ms)));
  const t = new PoolTransport(picker, { key: await importSigningKey('secret'), retryBaseMs: 1, log, fetch: counting, sleep });
  return { picker, logged, fetched, slept, transport: t };
}

/** Two loopback ports nothing listens on: a pool that is down. */
async function closedPorts(n: number): Promise<string[]> {
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    urls.push(`http://127.0.0.1:${(s.address() as AddressInfo).port}`);
    await new Promise((r) => s.close(r));
  }
  return urls;
}

describe('PoolTransport', () => {
  it('delivers a signed frame and returns the result frame', async () => {
    const seen: SearchFrame[] = [];
    const { transport: t } = await transport([await fakeRouter(() => 'ok', seen)]);
    const got = await t.send(frame());
    expect(got.frame).toMatchObject({ type: 'result', batchId: 'b1', indexVersion: 'v7' });
    expect(got.attempts).toBe(1);
    expect(seen[0].queries[0]).toMatchObject({ id: 'q0', text: 'x' });
  });

  it.each<Behaviour>(['overloaded', 'internal', 'drop'])('retries on another endpoint after %s', async (bad) => {
    const down = await fakeRouter(() => bad);
    const up = await fakeRouter(() => 'ok');
    const { transport: t } = await transport([down, up]);
    for (let i = 0; i < 10; i++) {
      const got = await t.send(frame());
      expect(got.endpoint).toBe(up);
    }
  });

  it('opens the circuit of a failing endpoint, but not for overload', async () => {
    const broken = await fakeRouter(() => 'internal');
    const busy = await fakeRouter(() => 'overloaded');
    const up = await fakeRouter(() => 'ok');
    const { transport: t, picker } = await transport([broken, busy, up], 2);
    for (let i = 0; i < 30; i++) await t.send(frame());
    expect(Object.fromEntries(picker.states().map((s) => [s.url, s.breaker]))).toEqual({ [broken]: 'open', [busy]: 'closed', [up]: 'closed' });
  });

  it("delivers a result frame whose queries the pool refused as it is: one attempt, and the router's circuit stays closed", async () => {
    const { transport: t, picker, fetched } = await transport([await fakeRouter(() => 'refuse-queries')], 2);
    for (let i = 0; i < 5; i++) {
      const got = await t.send(frame());
      expect(got.attempts).toBe(1);
      expect(got.frame.results[0].error).toMatchObject({ code: 'bad-frame' });
    }
    expect(fetched.count).toBe(5);
    expect(picker.states()[0].breaker).toBe('closed');
  });

  it('retries the same endpoint after backoff while the deadline allows', async () => {
    let calls = 0;
    const { transport: t } = await transport([await fakeRouter(() => (++calls < 3 ? 'overloaded' : 'ok'))]);
    const got = await t.send(frame());
    expect(got.attempts).toBe(3);
  });

  it('does not retry what every node would refuse (a bad signature is a 502 naming the pool)', async () => {
    let calls = 0;
    const { transport: t } = await transport([await fakeRouter(() => (calls++, 'unauthorized')), await fakeRouter(() => (calls++, 'unauthorized'))]);
    const err = await t.send(frame()).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'bad_gateway', status: 502 });
    expect(err.message).toMatch(/unauthorized: signature does not match/);
    expect(calls).toBe(1);
  });

  it('gives up at the deadline with a 504 when nothing answers', async () => {
    const { transport: t } = await transport([await fakeRouter(() => 'silent')]);
    const t0 = Date.now();
    const err = await t.send(frame(300)).catch((e) => e);
    expect(err).toMatchObject({ code: 'deadline_exceeded', status: 504 });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('answers 503 with Retry-After when every endpoint stays overloaded', async () => {
    const { transport: t } = await transport([await fakeRouter(() => 'overloaded')]);
    const err = await t.send(frame(200)).catch((e) => e);
    expect(err).toMatchObject({ code: 'pool_unavailable', status: 503, retryAfterS: 1 });
  });

  it('answers 503 for an overloaded pool whose last retry runs into the deadline', async () => {
    let calls = 0;
    const { transport: t, picker } = await transport([await fakeRouter(() => (calls++ === 0 ? 'overloaded' : 'silent'))], 1);
    const err = await t.send(frame(300)).catch((e) => e);
    expect(calls).toBe(2);
    expect(err).toMatchObject({ code: 'pool_unavailable', status: 503, retryAfterS: 1 });
    expect(err.message).toMatch(/overloaded: busy/);
    expect(picker.states()[0].breaker).toBe('open'); // the silence still counts against its circuit
  });

  it.each<Behaviour>(['unsigned', 'wrong-key', 'replay', 'other-batch'])('refuses a %s answer: another endpoint is asked, the same one never again', async (bad) => {
    let calls = 0;
    const forger = await fakeRouter(() => (calls++ === 0 ? 'ok' : bad)); // (the first, genuine answer is what "replay" replays)
    const { transport: t, logged } = await transport([forger]);
    await t.send(frame());
    const err = await t.send({ ...frame(), batchId: 'b2' }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'bad_gateway', status: 502 });
    expect(calls).toBe(2); // not retried on the node that forged
    expect(logged).toEqual([expect.stringMatching(new RegExp(`^error pool answer refused: ${forger} answered`))]);
    expect(err.message).toMatch(bad === 'other-batch' ? /answered batch "another-batch" to batch "b2"/ : /not authenticated/);

    const honest = await fakeRouter(() => 'ok');
    const { transport: t2, picker } = await transport([forger, honest], 2);
    // Each send draws the forger first with probability ½; 2 refusals open its circuit (fewer in 24 draws: p ≈ 1.5e-6).
    for (let i = 0; i < 24; i++) expect((await t2.send(frame())).endpoint).toBe(honest);
    expect(picker.states().find((s) => s.url === forger)!.breaker).toBe('open');
  });

  it('refuses the answer of a node holding another key after one try per endpoint', async () => {
    // The node cannot verify the edge (401), and the edge cannot verify the node's answer.
    const urls = [await fakeRouter(() => 'wrong-key'), await fakeRouter(() => 'wrong-key'), await fakeRouter(() => 'wrong-key')];
    const { transport: t } = await transport(urls);
    const t0 = Date.now();
    const err = await t.send(frame(5000)).catch((e) => e);
    expect(err).toMatchObject({ code: 'bad_gateway', status: 502 });
    expect(Date.now() - t0).toBeLessThan(1000); // not the whole deadline
  });

  it('answers 503 when no endpoint is reachable, once the circuits are open, not at the deadline', async () => {
    const { transport: t, fetched } = await transport(['http://127.0.0.1:9']);
    const t0 = Date.now();
    const err = await t.send(frame(5000)).catch((e) => e);
    expect(err).toMatchObject({ code: 'pool_unavailable', status: 503, retryAfterS: 60 });
    expect(err.message).toMatch(/127\.0\.0\.1:9/);
    expect(fetched.count).toBe(3); // then its circuit opened
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('answers 503 at once while every circuit is open, with Retry-After until the first half-opens', async () => {
    const { transport: t, picker, fetched, slept } = await transport(await closedPorts(2), 2, 4000);
    const first = await t.send(frame(5000)).catch((e) => e);
    expect(first).toMatchObject({ code: 'pool_unavailable', retryAfterS: 4 });
    expect(picker.states().map((s) => s.breaker)).toEqual(['open', 'open']);
    const asked = fetched.count;
    slept.length = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const err = await t.send(frame(5000)).catch((e) => e);
      // "At once": no backoff slept and nothing asked (below); the wall-clock bound only rules out
      // waiting for the 5 s deadline, loose enough for a loaded CI machine.
      expect(slept).toEqual([]);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(err).toMatchObject({ code: 'pool_unavailable', status: 503 });
      expect(err.retryAfterS).toBeGreaterThanOrEqual(3);
      expect(err.retryAfterS).toBeLessThanOrEqual(4);
      expect(err.message).toMatch(/every pool endpoint's circuit is open/);
    }
    expect(fetched.count).toBe(asked); // not one request to the dead routers
  });

  it('retries only while the backoff and a typical answer still fit before the deadline', async () => {
    let behaviour: Behaviour = 'slow-ok';
    let calls = 0;
    const { transport: t } = await transport([await fakeRouter(() => (calls++, behaviour))], 1000);
    expect((await t.send(frame())).attempts).toBe(1); // answers take ~150 ms
    behaviour = 'internal';
    calls = 0;
    // 100 ms left after a fast failure: a retry could not get a typical answer in time.
    const err = await t.send(frame(100)).catch((e) => e);
    expect(err).toMatchObject({ code: 'pool_unavailable' });
    expect(calls).toBe(1);
    // With time for it, the same failure is retried.
    calls = 0;
    behaviour = 'internal';
    await t.send(frame(1000)).catch((e) => e);
    expect(calls).toBeGreaterThan(1);
  });

  it('counts every attempt behind a delivered frame', async () => {
    let calls = 0;
    const flaky = await fakeRouter(() => (++calls <= 2 ? 'drop' : 'ok'));
    const { transport: t } = await transport([flaky], 1000);
    const got = await t.send(frame());
    expect(got.attempts).toBe(3);
  });
});
