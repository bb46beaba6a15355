// `edgesearch index push` / `index pull` as a user runs them: real CLI processes against s3rver
// and a static HTTP server on loopback.
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';
import { fixtureIndex } from '../../test/index-fixture.ts';
import { readIndexManifest } from '../engine/shard/index.ts';
import { S3_TEST_ENV, startS3, startStaticServer, type TestS3, type TestServer } from '../engine/transfer/test-servers.ts';

let index: string;
let version: string;
let work: string;
let s3: TestS3;
let http: TestServer;

async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.set(relative(dir, join(d, e.name)), await readFile(join(d, e.name)));
    }
  };
  await walk(dir);
  return out;
}

const gone = (path: string) => stat(path).then(() => false, () => true);

beforeAll(async () => {
  index = await fixtureIndex();
  version = (await readIndexManifest(index)).version;
  work = await mkdtemp(join(tmpdir(), 'es-transfer-cli-'));
  s3 = await startS3();
  const root = join(work, 'www');
  await cp(index, join(root, 'v', version), { recursive: true });
  await cp(index, join(root, 'bad', version), { recursive: true });
  const f = join(root, 'bad', version, 'shard-001', 'bm25.terms');
  const bytes = await readFile(f);
  bytes[bytes.length - 1] ^= 0x55;
  await writeFile(f, bytes);
  http = await startStaticServer(root);
});
afterAll(async () => {
  await http?.close();
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

describe('edgesearch index push / pull', () => {
  it('lists push and pull under index', async () => {
    const r = await runCli(['index', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\bpush\b/);
    expect(r.stdout).toMatch(/\bpull\b/);
  });

  it('pushes to S3 and pulls the version back, byte for byte', async () => {
    const push = await runCli(['index', 'push', '--index', index, '--to', `s3://${s3.bucket}/prod`, '--endpoint', s3.endpoint], S3_TEST_ENV);
    expect(push.stderr).toContain('push: index');
    expect(push.code).toBe(0);
    expect(push.stdout.trim()).toBe(`s3://${s3.bucket}/prod/${version}`);
    const out = join(work, 'from-s3');
    // The endpoint from the standard variable this time.
    const pull = await runCli(['index', 'pull', '--from', push.stdout.trim(), '--out', out], { ...S3_TEST_ENV, AWS_ENDPOINT_URL: s3.endpoint });
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout.trim()).toBe(out);
    expect(pull.stderr).toMatch(/pull: \d+\/\d+ files, [\d.]+\/[\d.]+ MiB, [\d.]+ MiB\/s/);
    expect(await tree(out)).toEqual(await tree(index));
  });

  it('pulls over HTTP; a dropped connection is resumed with a Range request', async () => {
    http.requests.length = 0;
    http.drop = { suffix: 'shard-000/index.faiss', bytes: 123_456 };
    const out = join(work, 'from-http');
    const r = await runCli(['index', 'pull', '--from', `${http.url}/v/${version}`, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    // Resumed from the bytes that reached the disk before the connection dropped (at most the 123456 sent).
    const at = Number(/shard-000\/index\.faiss: .*retry 1\/5 .* from byte (\d+)/.exec(r.stderr)?.[1]);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(123_456);
    expect(http.requests.filter((q) => q.path.endsWith('shard-000/index.faiss')).map((q) => q.range)).toEqual([undefined, `bytes=${at}-`]);
    expect(await tree(out)).toEqual(await tree(index));
  });

  it('an interrupted pull is finished by running it again', async () => {
    const out = join(work, 'interrupted');
    http.drop = { suffix: 'shard-001/passages.bin', bytes: 40_000 };
    const first = await runCli(['index', 'pull', '--from', `${http.url}/v/${version}`, '--out', out, '--retries', '0']);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/error: .*shard-001\/passages\.bin: gave up after 1 attempts/);
    expect(await gone(out)).toBe(true);
    http.requests.length = 0;
    const again = await runCli(['index', 'pull', '--from', `${http.url}/v/${version}`, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    const at = Number(/shard-001\/passages\.bin: resuming from byte (\d+)/.exec(again.stderr)?.[1]);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(40_000);
    expect(http.requests.filter((q) => q.path.endsWith('shard-001/passages.bin')).map((q) => q.range)).toEqual([`bytes=${at}-`]);
    expect(await tree(out)).toEqual(await tree(index));
  });

  it('refuses a corrupted file: exit 1, the file and both hashes named, nothing at --out', async () => {
    const out = join(work, 'corrupt');
    const r = await runCli(['index', 'pull', '--from', `${http.url}/bad/${version}`, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: shard-001\/bm25\.terms: checksum mismatch: downloaded sha256 [0-9a-f]{64} \(\d+ bytes\), manifest says sha256 [0-9a-f]{64}/);
    expect(await gone(out)).toBe(true);
  });

  it('bad input: unknown scheme, http:// off loopback, a missing version, push over https', async () => {
    const out = join(work, 'never');
    const ftp = await runCli(['index', 'pull', '--from', 'ftp://host/x/v1', '--out', out]);
    expect(ftp.code).toBe(1);
    expect(ftp.stderr).toContain('unknown scheme "ftp"');
    const plain = await runCli(['index', 'pull', '--from', 'http://example.com/x/v1', '--out', out]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('plain http:// is allowed only to a loopback host');
    const missing = await runCli(['index', 'pull', '--from', `${http.url}/v/0000000000000000`, '--out', out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error: no index version "0000000000000000" at ${http.url}/v/0000000000000000`);
    const push = await runCli(['index', 'push', '--index', index, '--to', 'https://example.com/x']);
    expect(push.code).toBe(1);
    expect(push.stderr).toContain('push goes to s3:// or file://');
    expect(await gone(out)).toBe(true);
  });
});
