import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATIC128_DIR } from '../../../test/fixtures.ts';
import { loadEncoder } from './encoder.ts';
import { runCli } from '../../../test/cli.ts';
import { chooseOnnxFile, HubError, pullModel, type PullProgress } from './hub.ts';

// A stand-in for the Hugging Face hub on 127.0.0.1, serving the shared static128 model under
// several names. Like the hub, model.onnx is an LFS file: /api/models/<repo>/revision/main?blobs=true
// lists it with lfs.sha256 (and the other files with their git blob sha1), and its resolve URL
// answers 302 to /cdn/ with X-Linked-Etag = its sha256; other files answer 200 with ETag = their
// git blob sha1. Repos (see REPOS): the faithful one, one whose listing carries no hashes (the
// headers must do), ones that send altered bytes of the right size, one whose commit and content
// the test changes. "acme/private" answers 401, "acme/broken" cuts model.onnx short; anything else 404.
const REPO = 'acme/static128';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const LFS = new Set(['model.onnx']);
const requests: string[] = [];
const auth: string[] = [];
let server: Server;
let endpoint: string;
const tmp = mkdtempSync(join(tmpdir(), 'es-hub-'));

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
/** The same size, other bytes. */
const altered = (b: Buffer) => {
  const out = Buffer.from(b);
  for (let i = out.length >> 1; i < (out.length >> 1) + 16 && i < out.length; i++) out[i] ^= 0xff;
  return out;
};

interface FakeRepo {
  sha: string;
  /** The listing carries size, blobId and lfs (as with ?blobs=true on the real hub). */
  blobs: boolean;
  /** Send hash headers on resolve answers. */
  headers: boolean;
  /** Files served with altered bytes (listing and headers still describe the real file). */
  corrupt: Set<string>;
}
const REPOS = new Map<string, FakeRepo>([
  [REPO, { sha: SHA, blobs: true, headers: true, corrupt: new Set() }],
  ['acme/headers-only', { sha: SHA, blobs: false, headers: true, corrupt: new Set() }],
  ['acme/no-hashes', { sha: SHA, blobs: false, headers: false, corrupt: new Set() }],
  ['acme/corrupt-lfs', { sha: SHA, blobs: true, headers: true, corrupt: new Set(['model.onnx']) }],
  ['acme/bad-etag', { sha: SHA, blobs: false, headers: true, corrupt: new Set(['tokenizer.json']) }],
  ['acme/changing', { sha: SHA, blobs: true, headers: true, corrupt: new Set() }],
]);

beforeAll(async () => {
  const names = readdirSync(STATIC128_DIR).filter((f) => statSync(join(STATIC128_DIR, f)).isFile());
  const content = new Map(names.map((f) => [f, readFileSync(join(STATIC128_DIR, f))]));
  server = createServer((req, res) => {
    const full = decodeURIComponent(req.url ?? '');
    requests.push(full);
    const url = full.split('?')[0];
    auth.push(req.headers.authorization ?? '');
    const send = (bytes: Buffer, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'content-length': bytes.length, 'content-type': 'application/octet-stream', ...headers });
      res.end(bytes);
    };
    const api = /^\/api\/models\/(acme\/[^/]+)\/revision\/main$/.exec(url);
    const resolve = /^\/(acme\/[^/]+)\/resolve\/main\/(.+)$/.exec(url);
    const cdn = /^\/cdn\/(acme\/[^/]+)\/([0-9a-f]{40})\/(.+)$/.exec(url);
    if (url === '/api/models/acme/broken/revision/main') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sha: SHA, siblings: [{ rfilename: 'model.onnx' }, { rfilename: 'tokenizer.json' }] }));
    } else if (url === '/acme/broken/resolve/main/model.onnx') {
      // Promise 1000 bytes, send 10, cut the connection.
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 20);
    } else if (url.startsWith('/api/models/acme/private/') || url.startsWith('/acme/private/')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"Invalid credentials in Authorization header"}');
    } else if (api && REPOS.has(api[1])) {
      const repo = REPOS.get(api[1])!;
      const siblings = names.map((rfilename) => {
        if (!repo.blobs) return { rfilename };
        const bytes = content.get(rfilename)!;
        if (!LFS.has(rfilename)) return { rfilename, size: bytes.length, blobId: gitSha1(bytes) };
        const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(bytes)}\nsize ${bytes.length}\n`);
        return { rfilename, size: bytes.length, blobId: gitSha1(pointer), lfs: { sha256: sha256(bytes), size: bytes.length, pointerSize: pointer.length } };
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: api[1], sha: repo.sha, siblings }));
    } else if (resolve && REPOS.has(resolve[1]) && content.has(resolve[2])) {
      const repo = REPOS.get(resolve[1])!;
      const [file, bytes] = [resolve[2], content.get(resolve[2])!];
      if (LFS.has(file)) {
        const hash = `"${sha256(bytes)}"`;
        res.writeHead(302, { location: `/cdn/${resolve[1]}/${repo.sha}/${file}`, ...(repo.headers ? { 'x-linked-etag': hash, etag: hash, 'x-linked-size': String(bytes.length) } : {}) });
        res.end();
      } else {
        send(repo.corrupt.has(file) ? altered(bytes) : bytes, repo.headers ? { etag: `"${gitSha1(bytes)}"` } : {});
      }
    } else if (cdn && REPOS.has(cdn[1]) && content.has(cdn[3])) {
      // Storage answers with its own kind of ETag, which says nothing about git or LFS hashes.
      const bytes = content.get(cdn[3])!;
      send(REPOS.get(cdn[1])!.corrupt.has(cdn[3]) ? altered(bytes) : bytes, { etag: '"d41d8cd98f00b204e9800998ecf8427e-1"' });
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"Repository not found"}');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  rmSync(tmp, { recursive: true, force: true });
});

/** Every file under a directory → the sha256 of its bytes (comparing megabytes with toEqual crawls). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out.set(name, sha256(readFileSync(path)));
  }
  return out;
}

describe('pullModel (local fake hub)', () => {
  it('downloads the model, follows the redirect, writes a manifest; the pulled model encodes like the original', async () => {
    const cacheDir = join(tmp, 'cache');
    const messages: string[] = [];
    const events: PullProgress[] = [];
    const dir = await pullModel(REPO, {
      endpoint,
      cacheDir,
      token: 'hf_test',
      onProgress: (m, p) => {
        messages.push(m);
        if (p) events.push(p);
      },
    });
    expect(dir).toBe(join(cacheDir, 'acme--static128', 'main'));
    expect(auth[0]).toBe('Bearer hf_test');
    expect(requests).toContain(`/cdn/${REPO}/${SHA}/model.onnx`); // the redirect was followed
    expect(requests).toContain(`/api/models/${REPO}/revision/main?blobs=true`); // the listing with hashes
    for (const f of ['model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json']) {
      expect(readFileSync(join(dir, f)).equals(readFileSync(join(STATIC128_DIR, f)))).toBe(true);
    }
    expect(existsSync(join(dir, 'PROVENANCE.md'))).toBe(false); // only the files a model needs
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(events.find((e) => e.file === 'model.onnx' && e.done)).toMatchObject({ received: statSync(join(dir, 'model.onnx')).size, verified: 'sha256' });
    expect(events.find((e) => e.file === 'tokenizer.json' && e.done)).toMatchObject({ verified: 'git-sha1' });
    expect(readdirSync(join(cacheDir, 'acme--static128'))).toEqual(['main']); // no staging left
    expect(messages.some((m) => m.startsWith('wrote '))).toBe(true);

    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      id: REPO,
      onnx: 'model.onnx',
      inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask' },
      output: { name: 'sentence_embedding', kind: 'sentence' },
      pooling: 'in-graph',
      dimension: 128,
    });

    const pulled = await loadEncoder(dir, { threads: 2, log: () => {} });
    const original = await loadEncoder(STATIC128_DIR, { threads: 2, log: () => {} });
    try {
      const texts = ['Coffee consumption and heart disease', 'T cells in tumour immunity', ''];
      const a = await pulled.encodeQueries(texts);
      const b = await original.encodeQueries(texts);
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      const doc = { title: 'A title', text: 'Some body text about proteins. '.repeat(30) };
      expect(Buffer.from((await pulled.encodeWindows(pulled.documentWindows(doc))).buffer).equals(
        Buffer.from((await original.encodeWindows(original.documentWindows(doc))).buffer),
      )).toBe(true);
    } finally {
      await Promise.all([pulled.dispose(), original.dispose()]);
    }

    // Pulling again for the same commit downloads nothing.
    const before = requests.length;
    const again: PullProgress[] = [];
    await pullModel(REPO, { endpoint, cacheDir, onProgress: (_m, p) => p && again.push(p) });
    expect(requests.length - before).toBe(1); // just the api call
    expect(again.every((e) => e.cached)).toBe(true);

    // Without its manifest, the directory is assembled again from the cached files (no download).
    const files = snapshot(dir);
    rmSync(join(dir, 'manifest.json'));
    const third = requests.length;
    await pullModel(REPO, { endpoint, cacheDir });
    expect(requests.length - third).toBe(1);
    expect(snapshot(dir)).toEqual(files);
    expect(readdirSync(join(cacheDir, 'acme--static128'))).toEqual(['main']);
  });

  it('404: a clear error naming the repository', async () => {
    const err = await pullModel('acme/nope', { endpoint, cacheDir: join(tmp, 'c2') }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.status).toBe(404);
    expect(err.message).toMatch(/model acme\/nope@main: not found \(HTTP 404\)/);
  });

  it('a cut download fails clearly and leaves no model directory', async () => {
    const cacheDir = join(tmp, 'c5');
    await expect(pullModel('acme/broken', { endpoint, cacheDir })).rejects.toThrow(/download of model\.onnx .*failed/);
    expect(readdirSync(join(cacheDir, 'acme--broken'))).toEqual([]);
  });

  it('401: says a token is needed', async () => {
    await expect(pullModel('acme/private', { endpoint, cacheDir: join(tmp, 'c3') })).rejects.toThrow(/HTTP 401.*set HF_TOKEN/);
  });

  it('network errors and bad ids are reported clearly', async () => {
    // A port nothing listens on: open one, note it, close it.
    const probe = createServer();
    await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((ok) => probe.close(ok));
    await expect(pullModel(REPO, { endpoint: `http://127.0.0.1:${port}`, cacheDir: join(tmp, 'c4') })).rejects.toThrow(
      new RegExp(`network error reaching http://127\\.0\\.0\\.1:${port}/api/models/acme/static128/revision/main\\?blobs=true: ECONNREFUSED`),
    );
    await expect(pullModel('../etc', { endpoint })).rejects.toThrow(/invalid repository id/);
  });
});

describe('pullModel verifies what it downloads against the hashes the hub reports', () => {
  const original = (f: string) => readFileSync(join(STATIC128_DIR, f));

  it('an LFS file of the right size but other bytes is refused, naming the file and both sha256; nothing is left', async () => {
    const cacheDir = join(tmp, 'v1');
    const err = await pullModel('acme/corrupt-lfs', { endpoint, cacheDir }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    const expected = createHash('sha256').update(original('model.onnx')).digest('hex');
    const actual = createHash('sha256').update(altered(original('model.onnx'))).digest('hex');
    expect(err.message).toContain(`download of model.onnx refused: its sha256 is ${actual}, but the hub reports ${expected} (the hub's file listing (lfs.sha256))`);
    expect(readdirSync(join(cacheDir, 'acme--corrupt-lfs'))).toEqual([]);
  });

  it('without hashes in the listing, the resolve headers are checked: X-Linked-Etag (sha256) and ETag (git blob sha1)', async () => {
    const cacheDir = join(tmp, 'v2');
    const events: PullProgress[] = [];
    const dir = await pullModel('acme/headers-only', { endpoint, cacheDir, onProgress: (_m, p) => p && events.push(p) });
    expect(events.find((e) => e.file === 'model.onnx' && e.done)?.verified).toBe('sha256');
    expect(events.find((e) => e.file === 'tokenizer.json' && e.done)?.verified).toBe('git-sha1');
    expect(readFileSync(join(dir, 'tokenizer.json')).equals(original('tokenizer.json'))).toBe(true);

    // A non-LFS file whose bytes do not give the git blob sha1 of its ETag is refused.
    const badDir = join(tmp, 'v3');
    const err = await pullModel('acme/bad-etag', { endpoint, cacheDir: badDir }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    const bytes = original('tokenizer.json');
    const blob = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
    expect(err.message).toContain(`download of tokenizer.json refused: its git-sha1 is ${blob(altered(bytes))}, but the hub reports ${blob(bytes)} (the ETag header of the resolve answer)`);
    expect(readdirSync(join(badDir, 'acme--bad-etag'))).toEqual([]);
  });

  it('a hub that reports no hash at all: the download is kept, and the progress says it was not verified', async () => {
    const messages: string[] = [];
    const events: PullProgress[] = [];
    await pullModel('acme/no-hashes', { endpoint, cacheDir: join(tmp, 'v4'), onProgress: (m, p) => (messages.push(m), p && events.push(p)) });
    expect(events.filter((e) => e.done).map((e) => e.verified)).toEqual(events.filter((e) => e.done).map(() => undefined));
    expect(messages).toContain(`  model.onnx done (${(statSync(join(STATIC128_DIR, 'model.onnx')).size / 1e6).toFixed(1)} MB, not verified: the hub reported no hash)`);
  });

  it('a refused pull of a new commit leaves the previous model directory as it was; leftovers of dead pulls are removed', async () => {
    const cacheDir = join(tmp, 'v5');
    const repo = REPOS.get('acme/changing')!;
    const dir = await pullModel('acme/changing', { endpoint, cacheDir });
    const before = snapshot(dir);
    expect(before.has('manifest.json') && before.has('model.onnx')).toBe(true);

    // What a killed pull leaves: a staging directory named after a process that no longer runs.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const stale = join(cacheDir, 'acme--changing', `.main.staging-${dead}-0badc0de`);
    mkdirSync(stale);

    repo.sha = 'fedcba9876543210fedcba9876543210fedcba98';
    repo.corrupt.add('model.onnx');
    try {
      await expect(pullModel('acme/changing', { endpoint, cacheDir })).rejects.toThrow(/download of model\.onnx refused: its sha256 is [0-9a-f]{64}, but the hub reports [0-9a-f]{64}/);
      expect(snapshot(dir)).toEqual(before);
      expect(readdirSync(join(cacheDir, 'acme--changing'))).toEqual(['main']);
      expect(existsSync(stale)).toBe(false);

      // Once the hub serves the right bytes, the new commit replaces the old directory whole.
      repo.corrupt.clear();
      expect(await pullModel('acme/changing', { endpoint, cacheDir })).toBe(dir);
      expect(JSON.parse(readFileSync(join(dir, '.edgesearch-pull.json'), 'utf8')).sha).toBe(repo.sha);
      expect(readdirSync(join(cacheDir, 'acme--changing'))).toEqual(['main']);
    } finally {
      repo.sha = SHA;
      repo.corrupt.clear();
    }
  });
});

describe('chooseOnnxFile', () => {
  it('prefers onnx/model.onnx, then model.onnx, then the shortest non-quantized file', () => {
    expect(chooseOnnxFile(['model.onnx', 'onnx/model.onnx', 'onnx/model_quantized.onnx'])).toBe('onnx/model.onnx');
    expect(chooseOnnxFile(['README.md', 'model.onnx'])).toBe('model.onnx');
    expect(chooseOnnxFile(['onnx/model_qint8_avx512.onnx', 'onnx/encoder.onnx'])).toBe('onnx/encoder.onnx');
    expect(chooseOnnxFile(['a.onnx', 'b.onnx'], 'b.onnx')).toBe('b.onnx');
    expect(() => chooseOnnxFile(['a.onnx'], 'c.onnx')).toThrow(/c\.onnx is not in the repository/);
    expect(() => chooseOnnxFile(['pytorch_model.bin'])).toThrow(/no \.onnx file/);
  });
});

describe('edgesearch models pull (CLI, local fake hub)', () => {
  it('pulls through HF_ENDPOINT and prints the model directory; a missing repo exits 1 with the status', async () => {
    const cacheDir = join(tmp, 'cli-cache');
    const ok = await runCli(['models', 'pull', REPO, '--cache', cacheDir], { HF_ENDPOINT: endpoint });
    expect(ok.code).toBe(0);
    const dir = ok.stdout.trim();
    expect(dir).toBe(join(cacheDir, 'acme--static128', 'main'));
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).dimension).toBe(128);
    const missing = await runCli(['models', 'pull', 'acme/nothing-here', '--cache', cacheDir], { HF_ENDPOINT: endpoint });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/404|not found/i);
    const corrupt = await runCli(['models', 'pull', 'acme/corrupt-lfs', '--cache', cacheDir], { HF_ENDPOINT: endpoint });
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/download of model\.onnx refused: its sha256 is [0-9a-f]{64}, but the hub reports [0-9a-f]{64}/);
    expect(existsSync(join(cacheDir, 'acme--corrupt-lfs', 'main'))).toBe(false);
  });
});
