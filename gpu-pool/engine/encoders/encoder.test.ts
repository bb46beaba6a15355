import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, SCIFACT_DIR, STATIC128_DIR, USE_LITE_DIR } from '../../../test/fixtures.ts';
import { type Encoder, loadEncoder } from './encoder.ts';
import { parseManifest, resolveManifest } from './manifest.ts';

const STATIC128 = join(REPO_ROOT, 'models', 'use-lite-static128');
const USE_LITE = join(REPO_ROOT, 'models', 'use-lite');
const USE_LITE_INT8W = join(REPO_ROOT, 'models', 'use-lite-int8w');

const row = (v: Float32Array, d: number, i: number) => v.subarray(i * d, (i + 1) * d);
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function scifactDocs(n: number): Promise<{ title: string; text: string }[]> {
  const docs: { title: string; text: string }[] = [];
  const rl = createInterface({ input: createReadStream(join(SCIFACT_DIR, 'corpus.jsonl')) });
  for await (const line of rl) {
    const d = JSON.parse(line) as { title: string; text: string };
    docs.push({ title: d.title, text: d.text });
    if (docs.length === n) break;
  }
  rl.close();
  return docs;
}

describe('encoder on use-lite-static128 (fast)', () => {
  let enc: Encoder;
  let docs: { title: string; text: string }[];
  beforeAll(async () => {
    enc = await loadEncoder(STATIC128, { threads: 2 });
    docs = await scifactDocs(12);
  });
  afterAll(() => enc.dispose());

  it('describes itself', () => {
    expect(enc.modelId).toBe('use-lite-static128');
    expect(enc.dimension).toBe(128);
    expect(enc.maxTokens).toBe(128);
    expect(enc.provider).toBe('cpu');
    expect(enc.manifestHash).toMatch(/^[0-9a-f]{64}$/);
    expect(enc.manifestPath).toBe(join(STATIC128, 'manifest.json'));
    expect(enc.window).toEqual({ size: 120, stride: 80, titleMaxTokens: 24 });
    expect(Array.from(enc.tokenize('smartphone'))).toEqual([5620]);
  });

  it('cuts SciFact documents into windows that fit, title first in each', () => {
    for (const doc of docs) {
      const windows = enc.documentWindows(doc);
      const title = enc.tokenize(doc.title).subarray(0, 24);
      const body = enc.tokenize(doc.text);
      const fits = body.length <= Math.min(120, 128 - title.length);
      expect(windows.length === 1).toBe(fits);
      for (const w of windows) {
        expect(w.length).toBeLessThanOrEqual(128);
        expect(Array.from(w.subarray(0, title.length))).toEqual(Array.from(title));
      }
      // the last window ends with the body's last token
      expect(windows.at(-1)!.at(-1)).toBe(body.at(-1));
    }
    expect(docs.map((d) => enc.documentWindows(d).length).some((n) => n > 1)).toBe(true);
  });

  it('gives bit-identical vectors however windows are grouped into calls', async () => {
    const windows = docs.flatMap((d) => enc.documentWindows(d));
    const all = await enc.encodeWindows(windows);
    expect(all.length).toBe(windows.length * 128);
    const reversed = await enc.encodeWindows([...windows].reverse());
    const pieces: Float32Array[] = [];
    for (let i = 0; i < windows.length; i += 3) pieces.push(await enc.encodeWindows(windows.slice(i, i + 3)));
    const joined = Float32Array.from(pieces.flatMap((p) => Array.from(p)));
    expect(sameBits(joined, all)).toBe(true);
    for (let i = 0; i < windows.length; i++) expect(sameBits(row(reversed, 128, windows.length - 1 - i), row(all, 128, i))).toBe(true);
  });

  it('padded batching returns rows in input order', async () => {
    const batched = await loadEncoder(STATIC128, { threads: 2, batching: 'padded', batchSize: 5 });
    try {
      const windows = docs.flatMap((d) => enc.documentWindows(d));
      const a = await enc.encodeWindows(windows);
      const b = await batched.encodeWindows(windows);
      for (let i = 0; i < windows.length; i++) expect(dot(row(a, 128, i), row(b, 128, i))).toBeGreaterThan(0.99999);
    } finally {
      await batched.dispose();
    }
  });

  it('counts onnxruntime calls: padded makes one call per batchSize rows, rows one per row', async () => {
    const padded = await loadEncoder(STATIC128, { threads: 1, batching: 'padded', batchSize: 8 });
    try {
      const texts = ['sleep and memory', 'statins', 'a longer query about vitamin D and bone density', 'x', 'cells', 'p53'];
      const before = padded.onnxCalls;
      await padded.encodeQueries(texts);
      expect(padded.onnxCalls - before).toBe(1);
      await padded.encodeQueries([...texts, ...texts]); // 12 rows at 8 per call
      expect(padded.onnxCalls - before).toBe(3);
      const rowsBefore = enc.onnxCalls;
      await enc.encodeQueries(texts);
      expect(enc.batching).toBe('rows');
      expect(enc.onnxCalls - rowsBefore).toBe(texts.length);
    } finally {
      await padded.dispose();
    }
  });

  it("'auto' batching is rows on CPU; provider options pass through, and an absent accelerator falls back", async () => {
    const warnings: string[] = [];
    const auto = await loadEncoder(STATIC128, { threads: 1, batching: 'auto', providers: [{ name: 'cuda', deviceId: 1 }, { name: 'cpu', useArena: false }], log: (m) => warnings.push(m) });
    try {
      expect(auto.provider).toBe('cpu');
      expect(auto.batching).toBe('rows');
      expect(warnings.join('\n')).toMatch(/'cuda' .*falling back to 'cpu'/);
      // Another session with other thread counts: equal up to kernel rounding.
      const [q, ref] = [await auto.encodeQueries(['sleep and memory']), await enc.encodeQueries(['sleep and memory'])];
      expect(Math.max(...q.map((x, i) => Math.abs(x - ref[i])))).toBeLessThan(1e-6);
    } finally {
      await auto.dispose();
    }
  });

  it('never feeds an empty row: empty queries and documents still give one unit vector each', async () => {
    const q = await enc.encodeQueries(['sleep and memory', '', '']);
    expect(q.length).toBe(3 * 128);
    for (let i = 0; i < 3; i++) expect(dot(row(q, 128, i), row(q, 128, i))).toBeCloseTo(1, 5);
    const w = enc.documentWindows({ title: '', text: '' });
    expect(w).toHaveLength(1);
    expect(w[0].length).toBeGreaterThan(0);
    expect((await enc.encodeWindows(w)).length).toBe(128);
    expect((await enc.encodeQueries([])).length).toBe(0);
  });

  it('truncates long queries to the model window', async () => {
    const long = 'cells '.repeat(400);
    const [a, b] = [await enc.encodeQueries([long]), await enc.encodeQueries(['cells '.repeat(200)])];
    expect(sameBits(a, b)).toBe(true); // both cut to the first 128 tokens
  });

  it('loads a bare model directory (manifest inferred) with the same vectors', async () => {
    const bare = await loadEncoder(STATIC128_DIR, { threads: 2 });
    try {
      expect(bare.manifest.pooling).toBe('in-graph');
      expect(bare.manifestPath).toBe(STATIC128_DIR);
      const texts = ['Vitamin D and bone density', 'Gut microbiota in infants'];
      expect(sameBits(await bare.encodeQueries(texts), await enc.encodeQueries(texts))).toBe(true);
    } finally {
      await bare.dispose();
    }
  });

  it('checks the manifest against the graph at load time', async () => {
    const bad = resolveManifest(
      parseManifest({
        id: 'bad', onnx: 'model.onnx', inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask' },
        output: { name: 'sentence_embedding', kind: 'sentence' }, pooling: 'in-graph', normalize: true, maxTokens: 128, dimension: 64,
      }),
      STATIC128_DIR,
    );
    await expect(loadEncoder(bad)).rejects.toThrow(/output sentence_embedding is 128-d but the manifest says dimension 64/);
    const noOut = { ...bad, manifest: { ...bad.manifest, dimension: 128, output: { name: 'pooled', kind: 'sentence' as const } } };
    await expect(loadEncoder(noOut)).rejects.toThrow(/no output pooled \(outputs: sentence_embedding\)/);
  });

  it('off the calling thread (offThread): the same bits, the event loop free while it runs, errors carried back', async () => {
    const off = await loadEncoder(STATIC128, { threads: 1, offThread: true });
    try {
      expect(off.provider).toBe('cpu');
      const texts = ['Vitamin D and bone density', 'Gut microbiota in infants', ''];
      expect(sameBits(await off.encodeQueries(texts), await enc.encodeQueries(texts))).toBe(true);
      const windows = docs.slice(0, 4).flatMap((d) => off.documentWindows(d));
      expect(sameBits(await off.encodeWindows(windows), await enc.encodeWindows(windows))).toBe(true);

    } finally {
      await off.dispose();
    }
    await expect(off.encodeQueries(['x'])).rejects.toThrow(/disposed/);

    // One long onnxruntime call (2,000 rows in one batch) on the worker: timers here keep firing.
    // On the calling thread the same call lets at most one tick through (measured: 1), so a few
    // ticks prove the loop was free; a rate per millisecond would measure the CI machine's load.
    const oneCall = await loadEncoder(STATIC128, { threads: 1, offThread: true, batching: 'padded', batchSize: 4096 });
    try {
      const many = Array.from({ length: 2000 }, (_, i) => `query number ${i} about protein folding, cell biology and the immune response`);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      await oneCall.encodeQueries(many);
      clearInterval(timer);
      expect(ticks).toBeGreaterThanOrEqual(3);
    } finally {
      await oneCall.dispose();
    }

    // A session the worker cannot create: the loader's error, not a hang.
    const dir = await mkdtemp(join(tmpdir(), 'es-offthread-'));
    try {
      await copyFile(join(STATIC128_DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'));
      await writeFile(join(dir, 'model.onnx'), 'not an onnx graph');
      await expect(loadEncoder(dir, { offThread: true })).rejects.toThrow(/cannot create an onnxruntime session for .*model\.onnx/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to run after dispose', async () => {
    const e = await loadEncoder(STATIC128);
    await e.dispose();
    await expect(e.encodeQueries(['x'])).rejects.toThrow(/disposed/);
  });
});

describe('encoder on use-lite (fp32, int8w, token outputs)', () => {
  const texts = [
    'How many hours of sleep does an adult need?',
    'Adults should sleep seven to nine hours a night.',
    'The central bank raised interest rates again.',
    'Monetary policy was tightened by the central bank.',
  ];

  it('fp32: paraphrases score above 0.5, unrelated pairs below; cuda falls back to cpu with a warning', async () => {
    const logs: string[] = [];
    const enc = await loadEncoder(USE_LITE, { threads: 2, log: (m) => logs.push(m) });
    try {
      expect(enc.provider).toBe('cpu');
      expect(logs.some((m) => /'cuda'.*falling back to 'cpu'/.test(m))).toBe(true);
      const v = await enc.encodeQueries(texts);
      const d = enc.dimension;
      expect(d).toBe(512);
      const s = (i: number, j: number) => dot(row(v, d, i), row(v, d, j));
      expect(s(0, 1)).toBeGreaterThan(0.5);
      expect(s(2, 3)).toBeGreaterThan(0.5);
      for (const [i, j] of [[0, 2], [0, 3], [1, 2], [1, 3]]) expect(s(i, j)).toBeLessThan(Math.min(s(0, 1), s(2, 3)) - 0.2);

      // int8w with fp32 compute stays within cosine 0.999 of fp32.
      const q = await loadEncoder(USE_LITE_INT8W, { threads: 2, log: () => {} });
      try {
        const w = await q.encodeQueries(texts);
        for (let i = 0; i < texts.length; i++) expect(dot(row(v, d, i), row(w, d, i))).toBeGreaterThan(0.999);
      } finally {
        await q.dispose();
      }
    } finally {
      await enc.dispose();
    }
  });

  it('pools token outputs in JS (mean over valid tokens, cls) and normalises', async () => {
    const manifest = (pooling: 'mean' | 'cls', normalize: boolean) =>
      resolveManifest(
        parseManifest({
          id: `use-lite-tokens-${pooling}`,
          onnx: 'model_tokens.onnx',
          inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask' },
          output: { name: 'token_embeddings', kind: 'tokens' },
          pooling,
          normalize,
          maxTokens: 128,
          dimension: 512,
        }),
        USE_LITE_DIR,
      );
    // Batched, so the shorter row is right padded: padding must not count in the mean (not normalised, so a
    // wrong count would show).
    const mean = await loadEncoder(manifest('mean', false), { threads: 2, batching: 'padded' });
    const cls = await loadEncoder(manifest('cls', true), { threads: 2 });
    const raw = await ort.InferenceSession.create(join(USE_LITE_DIR, 'model_tokens.onnx'), { intraOpNumThreads: 2 });
    try {
      const ids = mean.tokenize(texts[0]);
      const T = ids.length;
      const out = await raw.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, T]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
      });
      const tokens = out.token_embeddings.data as Float32Array;
      const expectMean = new Float64Array(512);
      for (let t = 0; t < T; t++) for (let h = 0; h < 512; h++) expectMean[h] += tokens[t * 512 + h] / T;
      const got = await mean.encodeQueries([texts[0], `${texts[1]} ${texts[3]}`]);
      for (let h = 0; h < 512; h += 37) expect(got[h]).toBeCloseTo(expectMean[h], 4);
      expect(Math.hypot(...got.subarray(0, 512))).toBeGreaterThan(10); // token vectors are not unit length
      const first = tokens.subarray(0, 512);
      const gotCls = await cls.encodeQueries([texts[0]]);
      const n0 = Math.hypot(...first);
      for (let h = 0; h < 512; h += 37) expect(gotCls[h]).toBeCloseTo(first[h] / n0, 5);
    } finally {
      await Promise.all([mean.dispose(), cls.dispose(), raw.release()]);
    }
  });
});
