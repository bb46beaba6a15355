// Attacks on pool nodes, each against real `pool serve` processes on loopback, each refused, and
// the nodes still answering valid queries afterwards: bodies sent without a signature (memory),
// forged signatures (the body budget), slow headers, admin swaps to directories outside the
// index root or crafted to leak files, a replayed swap, a shard file edited in place, and the
// operator-only views.
import net from 'node:net';
import { cp, copyFile, mkdir, mkdtemp, open, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../gpu-pool/service/cluster/index.ts';
import { PoolClient, sendSwap, signSwap, type SignedSwap } from '../../gpu-pool/service/pool-client/index.ts';
import { readIndexManifest, type IndexManifest } from '../../gpu-pool/engine/shard/index.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/protocol/index.ts';
import { scifactTestQueries } from '../fixtures.ts';
import { fixtureIndex, newerFixture } from '../index-fixture.ts';
import { ADMIN_KEY, SIGNING_KEY, spawnPoolNodes, writeClusterConfig, type PoolProcess } from './harness.ts';

const METRICS_TOKEN = 'metrics-token-for-the-security-test';
const MB = 1024 * 1024;

let work: string;
let root: string;
let index: string;
let manifest: IndexManifest;
let pool: { nodes: PoolProcess[]; stop(graceMs?: number): Promise<void> };
let clients: PoolClient[];
let queries: { id: string; text: string }[];

beforeAll(async () => {
  // A private copy under its own index root: one test edits a shard file in place.
  work = await mkdtemp(join(tmpdir(), 'es-security-'));
  root = join(work, 'indexes');
  index = join(root, 'v1');
  await mkdir(root);
  await cp(await fixtureIndex({ limit: 200, shards: 2 }), index, { recursive: true });
  manifest = await readIndexManifest(index);
  queries = await scifactTestQueries(5);
  const ports = [await freePort(), await freePort()];
  const config = await writeClusterConfig(join(work, 'cluster.json'), {
    index,
    threads: 1,
    reverifyIntervalS: 1,
    // No admission by expected delay: these checks must not read a shed query as a failure.
    batching: { maxQueueDelayMs: 600_000 },
    // Small enough that a few forged uploads fill it; timeouts short enough for a test to wait out.
    http: { bodyBudgetBytes: 4 * MB, headersTimeoutS: 2, requestTimeoutS: 4 },
    nodes: [
      { id: 'a', url: `http://127.0.0.1:${ports[0]}`, shards: [0, 1] },
      { id: 'b', url: `http://127.0.0.1:${ports[1]}`, shards: [0, 1] },
    ],
  });
  pool = await spawnPoolNodes([
    { nodeId: 'a', configPath: config, port: ports[0], env: { EDGESEARCH_POOL_METRICS_TOKEN: METRICS_TOKEN } },
    { nodeId: 'b', configPath: config, port: ports[1], env: { EDGESEARCH_POOL_METRICS_TOKEN: METRICS_TOKEN } },
  ]);
  clients = await Promise.all(pool.nodes.map((n) => PoolClient.create(n.url, SIGNING_KEY)));
});

afterAll(async () => {
  for (const c of clients ?? []) c.close();
  await pool?.stop();
  await rm(work, { recursive: true, force: true });
});

const node = (id: string) => pool.nodes.find((n) => n.id === id)!;
const port = (id: string) => Number(new URL(node(id).url).port);

/** Resident memory of a node process, bytes. */
async function rss(id: string): Promise<number> {
  const status = await readFile(`/proc/${node(id).process.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** Every query of the test set answers from both shards, with hits. */
async function servesValidQueries(id: string): Promise<void> {
  const client = clients[pool.nodes.indexOf(node(id))];
  const answer = await client.search(queries.map((q) => ({ id: q.id, mode: 'hybrid' as const, k: 10, text: q.text })));
  for (const r of answer.results) {
    expect(r.error).toBeUndefined();
    expect(r.partial).toBeUndefined();
    expect(r.hits.length).toBe(10);
  }
}

interface Upload {
  socket: net.Socket;
  /** The answer's status line (undefined when the node closed without answering). */
  status: Promise<number | undefined>;
  closed: Promise<void>;
}

/**
 * A raw POST that sends `sent` bytes of a `declared`-byte body and then holds the connection open.
 * With `politeMs`, the body follows the headers only if no answer came within that time (so a
 * refusal is read rather than lost to a reset while still writing).
 */
function upload(toPort: number, headers: Record<string, string>, declared: number, sent: number, politeMs?: number): Upload {
  const socket = net.connect(toPort, '127.0.0.1');
  let text = '';
  const status = new Promise<number | undefined>((resolve) => {
    socket.on('data', (d) => {
      text += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    socket.on('close', () => resolve(undefined));
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  const head = Object.entries({ host: 'pool', 'content-type': 'application/msgpack', 'content-length': String(declared), ...headers })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`POST /v1/batch HTTP/1.1\r\n${head}\r\n`);
  if (politeMs === undefined) socket.write(Buffer.alloc(sent, 0x61));
  else
    void Promise.race([status, new Promise((r) => setTimeout(() => r('none'), politeMs))]).then((answer) => {
      if (answer === 'none') socket.write(Buffer.alloc(sent, 0x61));
    });
  return { socket, status, closed };
}

/** Samples a node's RSS every 50 ms while `during` runs; returns the peak growth over the level before. */
async function rssGrowth(id: string, during: () => Promise<void>): Promise<number> {
  const before = await rss(id);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rss(id));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    await during();
  } finally {
    sampling = false;
    await sampler;
  }
  return peak - before;
}

describe('request bodies', () => {
  it('refuses 16 unsigned 8 MB uploads held open before reading them: RSS grows by less than 16 MB', async () => {
    await servesValidQueries('a');
    let uploads: Upload[] = [];
    const growth = await rssGrowth('a', async () => {
      // 12 send their 8 MB at once; 4 wait up to 2 s for an answer before sending, so that the
      // 401 is read whatever the machine's load (a client still writing when the close arrives
      // gets a reset and may never read the 401 sent before it).
      uploads = Array.from({ length: 16 }, (_, i) => upload(port('a'), {}, 8_000_000, 8_000_000 - 1, i < 4 ? 2000 : undefined));
      const statuses = await Promise.all(uploads.map((u) => u.status));
      // Each is answered 401 at once and its connection closed: the body is never read.
      expect(statuses.every((s) => s === 401 || s === undefined), String(statuses)).toBe(true);
      expect(statuses.slice(0, 4), String(statuses)).toEqual([401, 401, 401, 401]);
      await Promise.all(uploads.map((u) => u.closed));
      await new Promise((r) => setTimeout(r, 1000));
    });
    console.log(`unsigned uploads: node RSS grew by ${(growth / MB).toFixed(1)} MB`);
    expect(growth).toBeLessThan(16 * MB);
    await servesValidQueries('a');
  });

  it('reads forged-signature uploads only within the body budget, cuts them at the request timeout, then serves again', async () => {
    // Well-formed, fresh headers with a wrong signature: the node cannot tell before reading.
    const forged = { [TIMESTAMP_HEADER]: String(Date.now()), [SIGNATURE_HEADER]: 'ab'.repeat(32) };
    let uploads: Upload[] = [];
    const growth = await rssGrowth('b', async () => {
      uploads = Array.from({ length: 16 }, () => upload(port('b'), forged, 2_000_000, 2_000_000 - 1, 500));
      // Two fit the 4 MiB budget and are read as they arrive; their last byte never comes, so the
      // request timeout (4 s) cuts them (408). The other 14 are refused as overload, unread.
      const statuses = await Promise.all(uploads.map((u) => u.status));
      await Promise.all(uploads.map((u) => u.closed));
      expect(statuses.filter((s) => s === 429).length, String(statuses)).toBe(14);
      expect(statuses.filter((s) => s !== 429).every((s) => s === 408 || s === undefined), String(statuses)).toBe(true);
    });
    console.log(`forged uploads: node RSS grew by ${(growth / MB).toFixed(1)} MB (budget 4 MiB)`);
    expect(growth).toBeLessThan(16 * MB);
    await servesValidQueries('b');
  }, 30_000);

  it('closes a connection whose headers never finish after the headers timeout', async () => {
    const socket = net.connect(port('a'), '127.0.0.1');
    socket.on('error', () => {});
    socket.resume();
    const started = Date.now();
    socket.write('POST /v1/batch HTTP/1.1\r\nhost: pool\r\n');
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    // headersTimeoutS is 2; Node checks it once a second.
    expect(Date.now() - started).toBeLessThan(6000);
    await servesValidQueries('a');
  }, 15_000);
});

describe('operator views', () => {
  it('/metrics and the detail of /readyz need the operator token; the status code does not', async () => {
    const url = node('a').url;
    expect((await fetch(`${url}/metrics`)).status).toBe(403);
    const withToken = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(withToken.status).toBe(200);
    expect(await withToken.text()).toMatch(/edgesearch_/);
    const anonymous = await fetch(`${url}/readyz`);
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ ready: true });
    const detailed = await (await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).json();
    expect(detailed).toMatchObject({ ready: true, node: 'a', shards: { 0: manifest.shards[0].version, 1: manifest.shards[1].version } });
  });

  it('says only "unauthorized" to a bad signature, whatever was wrong', async () => {
    for (const headers of [{} as Record<string, string>, { [TIMESTAMP_HEADER]: String(Date.now() - 3_600_000), [SIGNATURE_HEADER]: 'ab'.repeat(32) }, { [TIMESTAMP_HEADER]: String(Date.now()), [SIGNATURE_HEADER]: 'ab'.repeat(32) }]) {
      const res = await fetch(`${node('a').url}/v1/batch`, { method: 'POST', headers, body: new Uint8Array([0x80]) });
      expect(res.status).toBe(401);
      const text = new TextDecoder().decode(await res.arrayBuffer());
      expect(text).toContain('unauthorized');
      expect(text).not.toMatch(/stale|missing|match|timestamp/);
    }
    // The node logs why (once per peer and reason and window).
    expect(node('a').logs.some((l) => l.includes('request signature refused') && l.includes('stale timestamp'))).toBe(true);
  });
});

/** A swap request signed with the admin key for `forNode` (kept, so it can be replayed). */
const signedSwap = (forNode: string, body: unknown, key = ADMIN_KEY): Promise<SignedSwap> => signSwap(key, forNode, body);

async function postSwap(toNode: string, swap: SignedSwap): Promise<{ status: number; text: string }> {
  const res = await sendSwap(node(toNode).url, swap);
  return { status: res.status, text: await res.text() };
}

/** What a swap refusal must never carry: file system answers and file contents. */
const LEAKS = /ENOENT|EACCES|ENOTDIR|ELOOP|no such file|root:x:0|passwd|\/etc|\/proc/i;

describe('admin swap', () => {
  it('refuses directories outside the index root, whatever their spelling, and says nothing about them', async () => {
    const outside = join(work, 'elsewhere');
    await cp(join(index, manifest.shards[0].dir), join(outside, manifest.shards[0].dir), { recursive: true });
    await copyFile(join(index, 'index.json'), join(outside, 'index.json'));
    for (const dir of ['/etc', '../', '../../', '/proc/self', '/proc/self/cwd', 'v1/../../elsewhere/shard-000', join(outside, manifest.shards[0].dir), '/nonexistent/shard-000']) {
      const { status, text } = await postSwap('a', await signedSwap('a', { shard: 0, dir }));
      expect(status, dir).toBe(403);
      expect(text, dir).toMatch(/swap refused/);
      expect(text, dir).not.toMatch(LEAKS);
    }
    // Refusals of an existing and a missing directory read the same: no probing of the file system.
    const a = await postSwap('a', await signedSwap('a', { shard: 0, dir: '/etc' }));
    const b = await postSwap('a', await signedSwap('a', { shard: 0, dir: '/no/such/dir' }));
    expect(JSON.parse(a.text).error.message).toBe(JSON.parse(b.text).error.message);
    await servesValidQueries('a');
  });

  it('refuses a crafted shard directory: passages.bin a symlink to /etc/passwd, a manifest that lists no files', async () => {
    const real = join(index, manifest.shards[0].dir);
    const evil = join(root, 'evil');
    const dir = join(evil, manifest.shards[0].dir);
    await mkdir(dir, { recursive: true });
    // The real index.json, so only the shard's own files can give it away.
    await copyFile(join(index, 'index.json'), join(evil, 'index.json'));
    await copyFile(join(real, 'index.faiss'), join(dir, 'index.faiss'));
    await copyFile(join(real, 'vector-docs.u32'), join(dir, 'vector-docs.u32'));
    const shardManifest = JSON.parse(await readFile(join(real, 'manifest.json'), 'utf8'));
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...shardManifest, files: {} }));
    await symlink('/etc/passwd', join(dir, 'passages.bin'));
    // 1-byte records: passage i would be byte i of the linked file.
    const idx = Buffer.alloc(8 * 4096);
    for (let i = 0; i < 4096; i++) idx.writeUInt32LE(i, i * 8), idx.writeUInt32LE(1, i * 8 + 4);
    await writeFile(join(dir, 'passages.idx'), idx);
    for (const path of [dir, join('evil', manifest.shards[0].dir)]) {
      const { status, text } = await postSwap('a', await signedSwap('a', { shard: 0, dir: path }));
      expect(status, path).toBe(403);
      expect(text).not.toMatch(LEAKS);
    }
    // The same without the symlink (a plain copy of the file): the manifest lists none of the files the loader reads.
    await rm(join(dir, 'passages.bin'));
    await writeFile(join(dir, 'passages.bin'), await readFile('/etc/passwd'));
    const plain = await postSwap('a', await signedSwap('a', { shard: 0, dir }));
    expect(plain.status).toBe(403);
    expect(plain.text).not.toMatch(LEAKS);
    expect(node('a').logs.some((l) => l.includes('swap refused'))).toBe(true);
    await servesValidQueries('a');
  });

  it('accepts a signed swap once: its replay, the same request at another node and one signed with the edge key are refused', async () => {
    const body = { shard: 1, dir: join('v1', manifest.shards[1].dir) };
    const request = await signedSwap('a', body);
    const first = await postSwap('a', request);
    expect(first.status, first.text).toBe(200);
    expect(JSON.parse(first.text)).toMatchObject({ shard: 1, from: manifest.shards[1].version, to: manifest.shards[1].version });
    expect(await postSwap('a', request)).toMatchObject({ status: 401 });
    expect(await postSwap('b', request)).toMatchObject({ status: 401 });
    expect(await postSwap('a', await signedSwap('a', body, SIGNING_KEY))).toMatchObject({ status: 401 });
    // Who asked is logged with the swap.
    expect(node('a').logs.some((l) => l.includes('swap requested') && l.includes('127.0.0.1'))).toBe(true);
    expect(node('a').logs.some((l) => l.includes('admin request refused') && l.includes('replayed'))).toBe(true);
    await servesValidQueries('a');
    await servesValidQueries('b');
  });

  it('refuses to swap back to an older version (one from before an `index delete`) or to an unrelated index', async () => {
    // v2: v1 without the top hit of a query, written beside it (its lineage names v1).
    const top = (await clients[0].search([{ id: 'q', mode: 'bm25', k: 1, text: queries[0].text }])).results[0].hits[0].docId;
    const v2 = await newerFixture(index, 'v2', { remove: [top] });
    const m2 = await readIndexManifest(v2);
    for (const id of ['a', 'b']) {
      for (const s of [0, 1]) {
        const forward = await postSwap(id, await signedSwap(id, { shard: s, dir: join('v2', m2.shards[s].dir) }));
        expect(forward.status, forward.text).toBe(200);
      }
    }
    expect((await clients[1].search([{ id: 'q', mode: 'bm25', k: 10, text: queries[0].text }])).results[0].hits.map((h) => h.docId)).not.toContain(top);
    // Back to v1 would bring the deleted document back.
    const back = await postSwap('b', await signedSwap('b', { shard: 0, dir: join('v1', manifest.shards[0].dir) }));
    expect(back.status).toBe(403);
    expect(JSON.parse(back.text).error.message).toBe('swap refused: an older or unrelated version');
    // An index built on its own (same model, same shard count) is not a version of this one.
    const unrelated = join(root, 'other');
    await cp(await fixtureIndex({ limit: 150, shards: 2 }), unrelated, { recursive: true });
    const other = await postSwap('b', await signedSwap('b', { shard: 0, dir: join('other', manifest.shards[0].dir) }));
    expect(other.status).toBe(403);
    expect((await clients[1].search([{ id: 'q', mode: 'bm25', k: 10, text: queries[0].text }])).results[0].hits.map((h) => h.docId)).not.toContain(top);
  }, 60_000);
});

describe('shard files on disk', () => {
  it('takes a shard whose passages.bin was edited in place out of service: readiness fails, answers say the shard is missing', async () => {
    // The nodes serve v2 by now, whose shard 1 may be v1's files linked or its own: edit each file once.
    const files = [join(index, manifest.shards[1].dir, 'passages.bin'), join(root, 'v2', manifest.shards[1].dir, 'passages.bin')];
    const inodes = new Set<number>();
    for (const file of files) {
      const { ino } = await stat(file);
      if (inodes.has(ino)) continue;
      inodes.add(ino);
      const handle = await open(file, 'r+');
      try {
        // Same size, different bytes: only the checksum can tell.
        const original = Buffer.alloc(16);
        await handle.read(original, 0, 16, 100);
        await handle.write(Buffer.from(original.map((b) => (b === 0x41 ? 0x42 : 0x41))), 0, 16, 100);
      } finally {
        await handle.close();
      }
    }
    // Both nodes hold shard 1: wait until each has noticed.
    const until = Date.now() + 15_000;
    let statuses: number[];
    do {
      await new Promise((r) => setTimeout(r, 250));
      statuses = await Promise.all(pool.nodes.map(async (n) => (await fetch(`${n.url}/readyz`)).status));
    } while (statuses.some((s) => s === 200) && Date.now() < until);
    expect(statuses).toEqual([503, 503]);
    const detail = await (await fetch(`${node('a').url}/readyz`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).json();
    expect(detail.reason).toMatch(/shard 1/);
    // Still answering: shard 0's hits, flagged partial; never the edited passages.
    const answer = await clients[0].search([{ id: 'q', mode: 'bm25', k: 10, text: queries[0].text }]);
    expect(answer.results[0].partial).toEqual({ missingShards: [1] });
    expect(answer.results[0].hits.length).toBeGreaterThan(0);
    expect(node('a').logs.some((l) => l.includes('shard taken out of service'))).toBe(true);
  }, 30_000);
});
