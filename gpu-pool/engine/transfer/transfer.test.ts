// index push / pull against real local servers: s3rver (S3 API through the AWS SDK v3) and a
// node:http static file server with Range, including corruption and dropped connections.
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureIndex } from '../../../test/index-fixture.ts';
import { Searcher } from '../search/index.ts';
import { readIndexManifest } from '../shard/index.ts';
import { CorruptFileError, TransferError, createS3Client, isLoopbackHost, parseLocation, partialDir, pullIndex, pushIndex } from './index.ts';
import { S3_TEST_ENV, startDroppingProxy, startS3, startStaticServer, type TestS3, type TestServer } from './test-servers.ts';

let index: string;
let version: string;
let work: string;
let s3: TestS3;
const lines: string[] = [];
const log = (line: string) => void lines.push(line);
const quick = { log, backoffMs: 20, progressIntervalMs: 0 };

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Every file of `b` has the bytes of the same file in `a`, and no file is missing or extra. */
/**
 * The first retry of `file` resumed from what reached the disk before the drop (more than 0, at
 * most the `sent` bytes), as logged, with a Range request from there after the first whole GET.
 */
function expectResumed(requests: { path: string; range?: string }[], file: string, sent: number): void {
  const logged = [...lines].reverse().find((l) => l.includes('retry 1/5')) ?? '';
  const at = Number(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .* from byte (\\d+)`).exec(logged)?.[1]);
  expect(at).toBeGreaterThan(0);
  expect(at).toBeLessThanOrEqual(sent);
  expect(requests.filter((q) => q.path.endsWith(file)).map((q) => q.range)).toEqual([undefined, `bytes=${at}-`]);
}

async function expectSameTree(a: string, b: string): Promise<void> {
  const files = await listFiles(a);
  expect(await listFiles(b)).toEqual(files);
  for (const f of files) expect((await readFile(join(b, f))).equals(await readFile(join(a, f))), f).toBe(true);
}

const gone = (path: string) => stat(path).then(() => false, () => true);

beforeAll(async () => {
  Object.assign(process.env, S3_TEST_ENV);
  index = await fixtureIndex();
  version = (await readIndexManifest(index)).version;
  work = await mkdtemp(join(tmpdir(), 'es-transfer-'));
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

describe('index push and pull over S3 (s3rver)', () => {
  let pushed: Awaited<ReturnType<typeof pushIndex>>;
  beforeAll(async () => {
    pushed = await pushIndex({ index, to: `s3://${s3.bucket}/prod/idx`, endpoint: s3.endpoint, ...quick });
  });

  it('pushes a version under <prefix>/<version>, pulls it back byte for byte, and it loads and searches', async () => {
    expect(pushed.url).toBe(`s3://${s3.bucket}/prod/idx/${version}`);
    expect(pushed.uploaded).toBe(pushed.files);
    const out = join(work, 's3-pulled');
    const pulled = await pullIndex({ from: pushed.url, out, endpoint: s3.endpoint, ...quick });
    expect(pulled.version).toBe(version);
    expect(pulled.files).toBe(pushed.files - 3); // the data files (manifests and index.json are not in the count)
    await expectSameTree(index, out);
    expect(await gone(partialDir(out))).toBe(true);
    const searcher = await Searcher.open(out);
    try {
      const original = await Searcher.open(index);
      try {
        const q = [{ id: 'q', text: 'cell differentiation', k: 5 }];
        for (const mode of ['dense', 'bm25'] as const) {
          const [a] = await searcher.searchHits(mode, q);
          const [b] = await original.searchHits(mode, q);
          expect(a.length).toBe(5);
          expect(a).toEqual(b);
        }
      } finally {
        await original.close();
      }
    } finally {
      await searcher.close();
    }
    expect(lines.some((l) => /^pull: \d+\/\d+ files, [\d.]+\/[\d.]+ MiB, [\d.]+ MiB\/s/.test(l))).toBe(true);
  });

  it('a second push uploads nothing; the manifests go up after every data file', async () => {
    const proxy = await startDroppingProxy(s3.endpoint);
    try {
      const first = await pushIndex({ index, to: `s3://${s3.bucket}/order`, endpoint: proxy.url, concurrency: 3, ...quick });
      const puts = proxy.requests.map((r) => r.path).filter((p) => p.includes(`/order/${version}/`));
      const firstManifest = puts.findIndex((p) => p.endsWith('/manifest.json') || p.endsWith('/index.json'));
      expect(puts.slice(firstManifest).every((p) => p.endsWith('/manifest.json') || p.endsWith('/index.json'))).toBe(true);
      expect(puts[puts.length - 1]).toMatch(/\/index\.json$/);
      expect(first.uploaded).toBe(first.files);
      const again = await pushIndex({ index, to: `s3://${s3.bucket}/order`, endpoint: s3.endpoint, ...quick });
      expect(again.uploaded).toBe(0);
      expect(again.skipped).toBe(again.files);
    } finally {
      await proxy.close();
    }
  });

  it('uploads big files in parts (multipart) and they pull back whole', async () => {
    const pushed = await pushIndex({ index, to: `s3://${s3.bucket}/multipart`, endpoint: s3.endpoint, multipartThreshold: 64 << 10, partSize: 5 << 20, ...quick });
    const out = join(work, 's3-multipart');
    await pullIndex({ from: pushed.url, out, endpoint: s3.endpoint, ...quick });
    await expectSameTree(index, out);
  });

  it('resumes a dropped GetObject with a ranged GetObject from the bytes already on disk', async () => {
    const proxy = await startDroppingProxy(s3.endpoint);
    try {
      proxy.drop = { suffix: 'shard-000/index.faiss', bytes: 300_000 };
      const out = join(work, 's3-resumed');
      const r = await pullIndex({ from: `s3://${s3.bucket}/prod/idx/${version}`, out, endpoint: proxy.url, ...quick });
      expect(r.retries).toBe(1);
      expectResumed(proxy.requests, 'shard-000/index.faiss', 300_000);
      await expectSameTree(index, out);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a corrupted object: the file is named with both hashes, nothing is published', async () => {
    const pushed = await pushIndex({ index, to: `s3://${s3.bucket}/corrupt`, endpoint: s3.endpoint, ...quick });
    const original = await readFile(join(index, 'shard-001', 'passages.bin'));
    const bad = Buffer.from(original);
    bad[bad.length >> 1] ^= 0xff;
    const client = createS3Client({ endpoint: s3.endpoint });
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `corrupt/${version}/shard-001/passages.bin`, Body: bad }));
    client.destroy();
    const out = join(work, 's3-corrupt');
    const err = await pullIndex({ from: pushed.url, out, endpoint: s3.endpoint, ...quick }).catch((e) => e);
    expect(err).toBeInstanceOf(CorruptFileError);
    expect(err.message).toContain('shard-001/passages.bin');
    expect(err.message).toContain(err.expected.sha256);
    expect(err.message).toContain(err.actual.sha256);
    expect(err.expected.sha256).not.toBe(err.actual.sha256);
    expect(await gone(out)).toBe(true);
    expect(await gone(join(partialDir(out), 'shard-001', 'passages.bin'))).toBe(true);
  });

  it('names a version that is not there', async () => {
    const err = await pullIndex({ from: `s3://${s3.bucket}/prod/idx/0123456789abcdef`, out: join(work, 'none'), endpoint: s3.endpoint, ...quick }).catch((e) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect(err.message).toMatch(/no index version "0123456789abcdef" at s3:\/\/indexes\/prod\/idx\/0123456789abcdef.*not found \(404\)/);
  });
});

describe('index pull over HTTP (node:http static server with Range)', () => {
  let root: string;
  let server: TestServer;
  beforeAll(async () => {
    root = join(work, 'www');
    await cp(index, join(root, 'indexes', version), { recursive: true });
    server = await startStaticServer(root);
  });
  afterAll(async () => server?.close());

  it('pulls a version from a static file server', async () => {
    const out = join(work, 'http-pulled');
    await pullIndex({ from: `${server.url}/indexes/${version}`, out, ...quick });
    await expectSameTree(index, out);
    const searcher = await Searcher.open(out);
    await searcher.close();
  });

  it('resumes a dropped connection with a Range request from the bytes received', async () => {
    server.requests.length = 0;
    server.drop = { suffix: 'shard-001/passages.bin', bytes: 50_000 };
    const out = join(work, 'http-resumed');
    const r = await pullIndex({ from: `${server.url}/indexes/${version}`, out, ...quick });
    expect(r.retries).toBe(1);
    expectResumed(server.requests, 'shard-001/passages.bin', 50_000);
    await expectSameTree(index, out);
  });

  it('an interrupted pull leaves a partial directory; the rerun fetches only what is missing, from where it stopped', async () => {
    const out = join(work, 'http-interrupted');
    server.requests.length = 0;
    server.drop = { suffix: 'shard-000/index.faiss', bytes: 200_000 };
    const err = await pullIndex({ from: `${server.url}/indexes/${version}`, out, retries: 0, concurrency: 1, ...quick }).catch((e) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect(err.message).toContain('shard-000/index.faiss');
    expect(await gone(out)).toBe(true);
    const kept = (await stat(join(partialDir(out), 'shard-000', 'index.faiss'))).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(200_000);

    server.requests.length = 0;
    const r = await pullIndex({ from: `${server.url}/indexes/${version}`, out, ...quick });
    expect(r.reused).toBeGreaterThan(0);
    expect(server.requests.filter((q) => q.path.endsWith('shard-000/index.faiss')).map((q) => q.range)).toEqual([`bytes=${kept}-`]);
    // Files completed by the first run were not fetched again.
    const fetched = new Set(server.requests.map((q) => q.path));
    expect(fetched.size).toBe(1 /* index.json */ + 2 /* shard manifests */ + (r.files - r.reused));
    await expectSameTree(index, out);
  });

  it('refuses a corrupted file: named, deleted, nothing at --out', async () => {
    const bad = join(root, 'bad', version);
    await cp(index, bad, { recursive: true });
    const f = join(bad, 'shard-000', 'vector-docs.u32');
    const bytes = await readFile(f);
    bytes[0] ^= 1;
    await writeFile(f, bytes);
    const out = join(work, 'http-corrupt');
    const err = await pullIndex({ from: `${server.url}/bad/${version}`, out, ...quick }).catch((e) => e);
    expect(err).toBeInstanceOf(CorruptFileError);
    expect(err.message).toMatch(/shard-000\/vector-docs\.u32: checksum mismatch: downloaded sha256 [0-9a-f]{64} .* manifest says sha256 [0-9a-f]{64}/);
    expect(await gone(out)).toBe(true);
  });

  it('names a missing version (404) clearly', async () => {
    const err = await pullIndex({ from: `${server.url}/indexes/feedfacefeedface`, out: join(work, 'http-none'), ...quick }).catch((e) => e);
    expect(err).toBeInstanceOf(TransferError);
    expect(err.message).toBe(`no index version "feedfacefeedface" at ${server.url}/indexes/feedfacefeedface: ${server.url}/indexes/feedfacefeedface/index.json not found (404)`);
  });

  it('refuses an existing --out unless --force', async () => {
    const out = join(work, 'http-pulled');
    await expect(pullIndex({ from: `${server.url}/indexes/${version}`, out, ...quick })).rejects.toThrow(/already exists/);
    const r = await pullIndex({ from: `${server.url}/indexes/${version}`, out, force: true, ...quick });
    expect(r.version).toBe(version);
  });
});

describe('push to file:// and locations', () => {
  it('pushes to a directory and pulls from it', async () => {
    const dest = join(work, 'bucket-dir');
    const pushed = await pushIndex({ index, to: `file://${dest}`, ...quick });
    expect(pushed.url).toBe(`file://${dest}/${version}`);
    await expectSameTree(index, join(dest, version));
    const out = join(work, 'file-pulled');
    await pullIndex({ from: pushed.url, out, ...quick });
    await expectSameTree(index, out);
  });

  it('refuses to push a corrupted local index', async () => {
    const copy = join(work, 'corrupt-local');
    await cp(index, copy, { recursive: true });
    await writeFile(join(copy, 'shard-001', 'passages.idx'), Buffer.from('truncated'));
    await expect(pushIndex({ index: copy, to: `file://${join(work, 'never')}`, ...quick })).rejects.toThrow(/shard-001\/passages\.idx: size 9 bytes/);
    expect(await gone(join(work, 'never'))).toBe(true);
  });

  it('refuses unknown schemes, http:// off loopback, push over http, and a URL without a version', async () => {
    expect(() => parseLocation('ftp://host/x/v1', { purpose: 'pull' })).toThrow(/unknown scheme "ftp"/);
    expect(() => parseLocation('http://example.com/x/v1', { purpose: 'pull' })).toThrow(/plain http:\/\/ is allowed only to a loopback host/);
    expect(() => parseLocation('http://10.0.0.1/x/v1', { purpose: 'pull' })).toThrow(/loopback/);
    expect(() => parseLocation('https://example.com/x/v1', { purpose: 'push' })).toThrow(/push goes to s3:\/\/ or file:\/\//);
    expect(parseLocation('http://[::1]:8080/x/v1', { purpose: 'pull' }).kind).toBe('http');
    expect(parseLocation('s3://b/a/b/v1', { purpose: 'pull' })).toMatchObject({ kind: 's3', bucket: 'b', prefix: 'a/b/v1' });
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['example.com', '128.0.0.1', '::2', '0.0.0.0']) expect(isLoopbackHost(h), h).toBe(false);
    await expect(pullIndex({ from: 'http://example.com/x/v1', out: join(work, 'x'), ...quick })).rejects.toThrow(/loopback/);
    await expect(pullIndex({ from: 's3://bucket', out: join(work, 'x'), ...quick })).rejects.toThrow(/must end with the index version/);
  });
});
