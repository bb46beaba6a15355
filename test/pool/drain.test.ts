// Rolling restart: 8 clients stream queries over three routers while one node, a router that also
// holds a replica of shard 0, gets SIGTERM. Clients move to another router as an edge does when a
// node refuses them; the node answers everything it had accepted, exits 0, and no query goes
// unanswered, partial or wrong.
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../gpu-pool/service/cluster/index.ts';
import type { MethodName } from '../../gpu-pool/engine/methods/index.ts';
import { decodeFrame, encodeFrame, importSigningKey, signatureHeaders, type Frame, type SearchFrame } from '../../shared/protocol/index.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex } from '../index-fixture.ts';
import { startDelayProxy, type DelayProxy } from './delay-proxy.ts';
import { metricValue, referenceAnswers, SIGNING_KEY, spawnPoolNodes, writeClusterConfig, type PoolProcess, type Reference } from './harness.ts';

/**
 * The victim's own calls to the other nodes pass through proxies holding them this long, so each
 * query it routes is in flight for at least this long: at SIGTERM it surely has work to finish.
 */
const VICTIM_DELAY_MS = 1500;
const CLIENTS = 8;
const MODES: MethodName[] = ['dense', 'bm25', 'hybrid'];

let work: string;
let proxies: DelayProxy[] = [];
let pool: { nodes: PoolProcess[]; stop(graceMs?: number): Promise<void> };
let queries: { id: string; text: string }[];
let reference: Map<string, Reference>;

beforeAll(async () => {
  const index = await fixtureIndex({ limit: 300, shards: 2 });
  queries = await scifactTestQueries(30);
  reference = await referenceAnswers(index, queries, MODES);
  work = await mkdtemp(join(tmpdir(), 'es-drain-'));
  const [victimPort, bPort, cPort] = [await freePort(), await freePort(), await freePort()];
  proxies = [await startDelayProxy(bPort, VICTIM_DELAY_MS), await startDelayProxy(cPort, VICTIM_DELAY_MS)];
  // Every node routes. The victim holds shard 0, which b holds too; shard 1 is on b and c.
  const nodes = (bUrl: string, cUrl: string) => [
    { id: 'victim', url: `http://127.0.0.1:${victimPort}`, shards: [0] },
    { id: 'b', url: bUrl, shards: [0, 1] },
    { id: 'c', url: cUrl, shards: [1] },
  ];
  // Admission control is not under test: its delay estimate would shed behind the slow calls.
  const base = { index, threads: 1, batching: { maxQueueDelayMs: 600_000 } };
  const shared = await writeClusterConfig(join(work, 'cluster.json'), { ...base, nodes: nodes(`http://127.0.0.1:${bPort}`, `http://127.0.0.1:${cPort}`) });
  // The victim alone reaches b and c through the proxies (each process reads its own config).
  const victim = await writeClusterConfig(join(work, 'victim.json'), { ...base, nodes: nodes(proxies[0].url, proxies[1].url) });
  pool = await spawnPoolNodes([
    { nodeId: 'victim', configPath: victim, port: victimPort },
    { nodeId: 'b', configPath: shared, port: bPort },
    { nodeId: 'c', configPath: shared, port: cPort },
  ]);
});
afterAll(async () => {
  await pool?.stop();
  for (const p of proxies) await p.close();
  if (work) await rm(work, { recursive: true, force: true });
});

type Outcome =
  | { kind: 'answer'; status: number; frame: Frame }
  /** No byte of an answer came back: refused, or the connection closed under the request. */
  | { kind: 'no-answer'; code: string; reused: boolean }
  /** The connection broke after the answer had begun. */
  | { kind: 'broken'; code: string };

interface Attempt {
  node: string;
  query: string;
  sentAt: number;
  endAt?: number;
  outcome?: Outcome;
}

/** One signed search frame over the client's own keep-alive connections, like an edge's. */
async function send(agent: http.Agent, key: CryptoKey, url: string, frame: SearchFrame): Promise<Outcome> {
  const body = encodeFrame(frame);
  const headers = { 'content-type': 'application/msgpack', 'content-length': String(body.byteLength), ...(await signatureHeaders(key, body)) };
  return new Promise<Outcome>((resolve) => {
    let answered = false;
    const req = http.request(`${url}/v1/batch`, { method: 'POST', headers, agent }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ kind: 'answer', status: res.statusCode ?? 0, frame: decodeFrame(Buffer.concat(chunks)) });
        } catch (err) {
          resolve({ kind: 'broken', code: `unreadable answer: ${(err as Error).message}` });
        }
      });
      res.on('error', (err) => resolve({ kind: 'broken', code: (err as NodeJS.ErrnoException).code ?? err.message }));
    });
    req.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      resolve(answered ? { kind: 'broken', code } : { kind: 'no-answer', code, reused: req.reusedSocket });
    });
    req.end(body);
  });
}

describe('SIGTERM drain of a router + replica node', () => {
  it('answers what it accepted, exits 0, and no query is lost, partial or wrong', async () => {
    const key = await importSigningKey(SIGNING_KEY);
    const routers = pool.nodes.map((n) => ({ id: n.id, url: n.url }));
    const victim = pool.nodes.find((n) => n.id === 'victim')!;
    const attempts: Attempt[] = [];
    const failures: string[] = [];
    const done: { query: string; at: number }[] = [];
    let stop = false;
    /** While set, no client starts a request to the victim (see below). */
    let hold = false;
    let killAt = Infinity;

    const client = async (c: number) => {
      const agent = new http.Agent({ keepAlive: true });
      try {
        for (let n = 0; !stop; n++) {
          const q = queries[(c * 7 + n) % queries.length];
          const mode = MODES[(c + n) % MODES.length];
          const id = `${mode}:${q.id}`;
          const frame: SearchFrame = { v: 1, type: 'search', batchId: `c${c}-${n}`, deadline: Date.now() + 30_000, queries: [{ id, mode, k: 10, text: q.text }] };
          let ok = false;
          // Round robin over the routers, from a different one for each query. Another router is
          // tried when one refuses the request (or says it is shutting down), as an edge does.
          for (let t = 0; t < 3 * routers.length && !ok; t++) {
            const router = routers[(c + n + t) % routers.length];
            if (router.id === 'victim' && hold) continue;
            const a: Attempt = { node: router.id, query: frame.batchId, sentAt: performance.now() };
            attempts.push(a);
            a.outcome = await send(agent, key, router.url, frame);
            a.endAt = performance.now();
            const o = a.outcome;
            if (o.kind === 'answer' && o.status === 200 && o.frame.type === 'result') {
              const r = o.frame.results[0];
              if (r.error || r.partial || r.hits.map((h) => h.docId).join() !== reference.get(id)!.ids.join()) {
                failures.push(`${frame.batchId} via ${router.id}: ${JSON.stringify(r.error ?? r.partial ?? r.hits.map((h) => h.docId))}`);
              }
              ok = true;
              done.push({ query: frame.batchId, at: a.endAt });
            } else if (o.kind === 'answer' && o.status === 503 && o.frame.type === 'error' && o.frame.code === 'not-ready') {
              await new Promise((r) => setTimeout(r, 20));
            } else if (o.kind === 'no-answer' && a.sentAt > killAt) {
              // Refused, or a connection the draining node closed before reading the request
              // (an idle keep-alive connection, or one still in the accept queue when it stopped
              // listening): nothing was accepted, and HTTP clients retry such requests. Only
              // requests sent after SIGTERM may end this way; earlier ones must be answered.
              await new Promise((r) => setTimeout(r, 20));
            } else {
              failures.push(`${frame.batchId} via ${router.id}: ${JSON.stringify(o)}`);
              ok = true;
            }
          }
          if (!ok) failures.push(`${frame.batchId}: no router answered`);
        }
      } finally {
        agent.destroy();
      }
    };

    const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 60_000) => {
      const end = Date.now() + ms;
      while (!(await cond())) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const openAtVictim = () => attempts.filter((a) => a.node === 'victim' && a.endAt === undefined);
    const loops = Array.from({ length: CLIENTS }, (_, c) => client(c));
    try {
      // Steady state: the victim has answered queries and has several in flight.
      await until('the victim to be busy', () => attempts.filter((a) => a.node === 'victim' && a.outcome?.kind === 'answer').length >= CLIENTS && openAtVictim().length >= 4);
      // SIGTERM must find requests the victim has certainly accepted. A request still in the
      // socket when SIGTERM closes the connection was never accepted, and the clients would
      // retry it. So stop sending to the victim for a moment, and wait until its own counters
      // show every open request taken in: queries batched or queued, less frames answered.
      hold = true;
      await until('the victim to take in every open request', async () => {
        const m = await (await fetch(`${victim.url}/metrics`)).text();
        const accepted = metricValue(m, 'edgesearch_batch_size_sum') + metricValue(m, 'edgesearch_queue_depth') - metricValue(m, 'edgesearch_requests_total', { type: 'search' });
        return accepted === openAtVictim().length;
      });
      const inFlight = openAtVictim();
      killAt = performance.now();
      victim.process.kill('SIGTERM');
      hold = false;
      const code = await victim.exited;
      const exitMs = performance.now() - killAt;
      // Keep the stream going on the other routers for a while after the exit.
      const answeredAtExit = done.length;
      await until('queries after the exit', () => done.length >= answeredAtExit + 4 * CLIENTS);
      stop = true;
      await Promise.all(loops);

      const afterKill = attempts.filter((a) => a.node === 'victim' && a.sentAt > killAt);
      const kinds: Record<string, number> = {};
      for (const a of afterKill) {
        const o = a.outcome!;
        const k = o.kind === 'answer' ? `${o.status}` : `${o.kind}:${o.code}${o.kind === 'no-answer' && o.reused ? ':reused' : ''}`;
        kinds[k] = (kinds[k] ?? 0) + 1;
      }
      console.info(`drain: ${inFlight.length} requests in flight at SIGTERM; exit ${code} after ${Math.round(exitMs)} ms; ${done.length} queries answered, ${done.length - answeredAtExit} after the exit; requests to the victim after SIGTERM: ${JSON.stringify(kinds)}`);

      expect(failures, failures.slice(0, 5).join('\n')).toEqual([]);
      expect(code, victim.logs.slice(-10).join('\n')).toBe(0);
      expect(exitMs).toBeLessThan(20_000);
      // What the victim had accepted was answered, completely and right (checked above).
      expect(inFlight.length).toBeGreaterThanOrEqual(1);
      for (const a of inFlight) expect(a.outcome, a.query).toMatchObject({ kind: 'answer', status: 200 });
      // Every query sent was answered (retries included): none is left open or failed.
      const queriesSent = new Set(attempts.map((a) => a.query));
      expect(new Set(done.map((d) => d.query)).size).toBe(queriesSent.size);
      expect(attempts.every((a) => a.outcome !== undefined)).toBe(true);
      // It exited through the graceful close, not some other way out.
      expect(victim.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
  });
});
