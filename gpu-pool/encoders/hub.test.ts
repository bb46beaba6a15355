import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATIC128_DIR } from '../../test/fixtures.ts';
import { loadEncoder } from './encoder.ts';
import { runCli } from '../../test/cli.ts';
import { chooseOnnxFile, HubError, pullModel, type PullProgress } from './hub.ts';

// A stand-in for the Hugging Face hub on 127.0.0.1, serving the shared static128 model as "acme/static128":
//   /api/models/acme/static128/revision/main → {sha, siblings}
//   /acme/static128/resolve/main/<file>      → the file; model.onnx goes through a 302 to /cdn/ (like LFS files)
//   "acme/private" answers 401; anything else 404.
const REPO = 'acme/static128';
const SHA = '0123456789abcdef0123456789abcdef01234567';
const requests: string[] = [];
const auth: string[] = [];
let server: Server;
let endpoint: string;
const tmp = mkdtempSync(join(tmpdir(), 'es-hub-'));

beforeAll(async () => {
  const files = readdirSync(STATIC128_DIR).filter((f) => statSync(join(STATIC128_DIR, f)).isFile());
  server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push(url);
    const sendFile = (name: string) => {
      const path = join(STATIC128_DIR, name);
      res.writeHead(200, { 'content-length': statSync(path).size, 'content-type': 'application/octet-stream' });
      createReadStream(path).pipe(res);
    };
    auth.push(req.headers.authorization ?? '');
    if (url === '/api/models/acme/broken/revision/main') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ sha: SHA, siblings: [{ rfilename: 'model.onnx' }, { rfilename: 'tokenizer.json' }] }));
    } else if (url === '/acme/broken/resolve/main/model.onnx') {
      // Promise 1000 bytes, send 10, cut the connection.
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 20);
    } else if (url === `/api/models/${REPO}/revision/main`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: REPO, sha: SHA, siblings: files.map((rfilename) => ({ rfilename })) }));
    } else if (url.startsWith('/api/models/acme/private/') || url.startsWith('/acme/private/')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"Invalid credentials in Authorization header"}');
    } else if (url === `/${REPO}/resolve/main/model.onnx`) {
      res.writeHead(302, { location: `/cdn/${SHA}/model.onnx` });
      res.end();
    } else if (url.startsWith(`/cdn/${SHA}/`) && files.includes(url.slice(`/cdn/${SHA}/`.length))) {
      sendFile(url.slice(`/cdn/${SHA}/`.length));
    } else if (url.startsWith(`/${REPO}/resolve/main/`) && files.includes(url.slice(`/${REPO}/resolve/main/`.length))) {
      sendFile(url.slice(`/${REPO}/resolve/main/`.length));
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
    expect(requests).toContain(`/cdn/${SHA}/model.onnx`); // the redirect was followed
    for (const f of ['model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json']) {
      expect(readFileSync(join(dir, f)).equals(readFileSync(join(STATIC128_DIR, f)))).toBe(true);
    }
    expect(existsSync(join(dir, 'PROVENANCE.md'))).toBe(false); // only the files a model needs
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(events.find((e) => e.file === 'model.onnx' && e.done)).toMatchObject({ received: statSync(join(dir, 'model.onnx')).size });
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
  });

  it('404: a clear error naming the repository', async () => {
    const err = await pullModel('acme/nope', { endpoint, cacheDir: join(tmp, 'c2') }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.status).toBe(404);
    expect(err.message).toMatch(/model acme\/nope@main: not found \(HTTP 404\)/);
  });

  it('a cut download fails clearly and leaves no partial file', async () => {
    const cacheDir = join(tmp, 'c5');
    await expect(pullModel('acme/broken', { endpoint, cacheDir })).rejects.toThrow(/download of model\.onnx .*failed/);
    expect(readdirSync(join(cacheDir, 'acme--broken', 'main'))).toEqual([]);
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
      new RegExp(`network error reaching http://127\\.0\\.0\\.1:${port}/api/models/acme/static128/revision/main: ECONNREFUSED`),
    );
    await expect(pullModel('../etc', { endpoint })).rejects.toThrow(/invalid repository id/);
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
  });
});
