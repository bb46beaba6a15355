import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, USE_LITE_DIR } from '../../../test/fixtures.ts';
import { type LoadedManifest, parseManifest, resolveManifest } from './manifest.ts';
import { isPunctuationPiece, loadTokenEncoder, NotATokenModelError, type TokenEncoder } from './token-encoder.ts';
import { tokenRow, type TokenMatrix } from './token-matrix.ts';

const USE_LITE_TOKENS = join(REPO_ROOT, 'models', 'use-lite-tokens');
const BASE = JSON.parse(readFileSync(join(USE_LITE_TOKENS, 'manifest.json'), 'utf8')) as Record<string, unknown> & {
  lateInteraction: Record<string, unknown>;
};
const H = 512;
// Features are compared with a plain onnxruntime session of the same file, same thread count, row run
// alone: the encoder adds nothing to the numbers, so they agree to the bit; the stated tolerance
// (1e-5 absolute on components of norm ~30–150) only leaves room for kernel rounding.
const FEATURE_TOL = 1e-5;

const tmp = mkdtempSync(join(tmpdir(), 'es-token-encoder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The use-lite-tokens manifest with `lateInteraction` (and other fields) changed, model files from ../shared. */
function variant(lateInteraction: Record<string, unknown>, extra: Record<string, unknown> = {}): LoadedManifest {
  return resolveManifest(parseManifest({ ...BASE, modelDir: USE_LITE_DIR, ...extra, lateInteraction: { ...BASE.lateInteraction, ...lateInteraction } }), tmp);
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const norm = (v: Float32Array) => Math.hypot(...v);

describe('isPunctuationPiece', () => {
  it('skips pieces of nothing but punctuation/symbols once the ▁ / ## marks are gone', () => {
    for (const p of [',', '.', '▁,', '▁', '▁...', '▁“', '”', '##.', '##', '$', '—', '▁(', '%']) expect(isPunctuationPiece(p), p).toBe(true);
    for (const p of ['▁world', 'A', '5%', '##ing', '[CLS]', '<s>', '▁x', '3']) expect(isPunctuationPiece(p), p).toBe(false);
  });
});

describe('token encoder on use-lite-tokens', () => {
  let enc: TokenEncoder;
  let raw: ort.InferenceSession;
  /** The raw token_embeddings of one row run alone: ids.length × 512. */
  const rawTokens = async (ids: ArrayLike<number>): Promise<Float32Array> => {
    const T = ids.length;
    const out = await raw.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(Array.from(ids), BigInt), [1, T]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
    });
    return (out.token_embeddings.data as Float32Array).slice(0, T * H);
  };

  beforeAll(async () => {
    enc = await loadTokenEncoder(USE_LITE_TOKENS, { threads: 2, log: () => {} });
    raw = await ort.InferenceSession.create(join(USE_LITE_DIR, 'model_tokens.onnx'), { intraOpNumThreads: 2 });
  });
  afterAll(async () => {
    await enc.dispose();
    await raw.release();
  });

  it('describes itself', () => {
    expect(enc.modelId).toBe('use-lite-tokens');
    expect(enc.dimension).toBe(512);
    expect(enc.featureDimension).toBe(512);
    expect(enc.projection).toBeUndefined();
    expect(enc.provider).toBe('cpu');
    expect(enc.manifestHash).toMatch(/^[0-9a-f]{64}$/);
    expect(enc.manifestPath).toBe(join(USE_LITE_TOKENS, 'manifest.json'));
    expect(enc.manifest.lateInteraction).toEqual({ dimension: 512, queryMaxTokens: 32, documentMaxTokens: 256, skipPunctuation: true });
  });

  it('query features are the raw ONNX token outputs; encoded rows are those, L2-normalised', async () => {
    const text = 'How many hours of sleep does an adult need';
    const ids = enc.tokenizer.encode(text);
    const [f] = await enc.queryFeatures([text]);
    expect(f.rows).toBe(ids.length);
    expect(f.dim).toBe(H);
    expect(maxAbsDiff(f.data, await rawTokens(ids))).toBeLessThanOrEqual(FEATURE_TOL);
    const [q] = await enc.encodeQueryTokens([text]);
    expect([q.rows, q.dim]).toEqual([f.rows, 512]);
    for (let r = 0; r < q.rows; r++) {
      const v = tokenRow(q, r);
      expect(norm(v)).toBeCloseTo(1, 5);
      const x = tokenRow(f, r);
      const n = norm(x);
      expect(n).toBeGreaterThan(10); // features are not normalised
      for (let h = 0; h < H; h += 31) expect(v[h]).toBeCloseTo(x[h] / n, 6);
    }
  });

  it('cuts queries at queryMaxTokens and gives an empty text 0 rows', async () => {
    const long = 'cells '.repeat(100);
    const [q, empty, one] = await enc.queryFeatures([long, '', 'p53']);
    expect(q.rows).toBe(32);
    expect(maxAbsDiff(q.data, await rawTokens(enc.tokenizer.encode(long).subarray(0, 32)))).toBeLessThanOrEqual(FEATURE_TOL);
    expect([empty.rows, empty.data.length]).toEqual([0, 0]);
    expect(one.rows).toBeGreaterThan(0);
    const [e] = await enc.encodeQueryTokens(['']);
    expect([e.rows, e.dim]).toEqual([0, 512]);
    expect(await enc.queryFeatures([])).toEqual([]);
  });

  it('skips punctuation in documents: fewer rows, and the kept rows are the unskipped run at the kept positions', async () => {
    const all = await loadTokenEncoder(variant({ skipPunctuation: false }), { threads: 2, log: () => {} });
    try {
      const doc = { title: 'Sleep, memory', text: 'Sleep (7–9 h) helps memory; “naps” help too... $5, 10%.' };
      const ids = [...enc.tokenizer.encode(doc.title), ...enc.tokenizer.encode(doc.text)];
      const keep = ids.map((id) => !isPunctuationPiece(enc.tokenizer.idToToken(id)!));
      expect(keep.filter((k) => !k).length).toBeGreaterThanOrEqual(8);
      const [skipped] = await enc.documentFeatures([doc]);
      const [full] = await all.documentFeatures([doc]);
      expect(full.rows).toBe(ids.length);
      expect(maxAbsDiff(full.data, await rawTokens(ids))).toBeLessThanOrEqual(FEATURE_TOL);
      expect(skipped.rows).toBe(keep.filter(Boolean).length);
      let r = 0;
      for (let t = 0; t < ids.length; t++) if (keep[t]) expect(tokenRow(skipped, r++)).toEqual(tokenRow(full, t));
      // Queries keep their punctuation (ColBERT skips on the document side only).
      const [q] = await enc.queryFeatures([doc.text]);
      expect(q.rows).toBe(enc.tokenizer.encode(doc.text).length);
      // A document of nothing but punctuation, or nothing at all: 0 rows.
      const [p, e] = await enc.encodeDocumentTokens([{ title: '', text: ' ... , ; ' }, { title: '', text: '' }]);
      expect([p.rows, e.rows]).toEqual([0, 0]);
    } finally {
      await all.dispose();
    }
  });

  it('runs long documents in consecutive 128-token chunks, cut at documentMaxTokens', async () => {
    const body = Array.from({ length: 120 }, (_, i) => `cell${i} protein`).join(' '); // no punctuation
    const doc = { title: 'Protein folding', text: body };
    const ids = Int32Array.from([...enc.tokenizer.encode(doc.title), ...enc.tokenizer.encode(doc.text)]);
    expect(ids.length).toBeGreaterThan(300);
    const calls = enc.onnxCalls;
    const [f] = await enc.documentFeatures([doc]);
    expect(enc.onnxCalls - calls).toBe(2); // 256 tokens: two chunks of 128
    expect(f.rows).toBe(256);
    const first = await rawTokens(ids.subarray(0, 128));
    const second = await rawTokens(ids.subarray(128, 256));
    expect(maxAbsDiff(f.data.subarray(0, 128 * H), first)).toBeLessThanOrEqual(FEATURE_TOL);
    expect(maxAbsDiff(f.data.subarray(128 * H), second)).toBeLessThanOrEqual(FEATURE_TOL);
    // Why chunks: one 256-token row gives zeros past position 128 (the graph reads only 128 tokens of a row).
    const whole = await rawTokens(ids.subarray(0, 256));
    expect(whole.subarray(128 * H).every((x) => x === 0)).toBe(true);
    expect(norm(tokenRow(f, 128))).toBeGreaterThan(10);

    const short = await loadTokenEncoder(variant({ documentMaxTokens: 150, skipPunctuation: false }), { threads: 2, log: () => {} });
    try {
      const [g] = await short.documentFeatures([doc]);
      expect(g.rows).toBe(150); // 128 + 22
      expect(maxAbsDiff(g.data.subarray(128 * H), await rawTokens(ids.subarray(128, 150)))).toBeLessThanOrEqual(FEATURE_TOL);
    } finally {
      await short.dispose();
    }
  });

  it('textFeatures: every token of a long text (no cap, punctuation kept) in 128-token chunks, with offsets into the text', async () => {
    const text = Array.from({ length: 160 }, (_, i) => `cell${i}, protein`).join(' ');
    const ids = enc.tokenizer.encode(text);
    expect(ids.length).toBeGreaterThan(300); // past documentMaxTokens (256)
    const calls = enc.onnxCalls;
    const [t] = await enc.textFeatures([text]);
    expect(Array.from(t.ids)).toEqual(Array.from(ids));
    expect(t.features.rows).toBe(ids.length);
    expect(enc.onnxCalls - calls).toBe(Math.ceil(ids.length / 128));
    for (const from of [0, 128, 256]) {
      const to = Math.min(from + 128, ids.length);
      expect(maxAbsDiff(t.features.data.subarray(from * H, to * H), await rawTokens(ids.subarray(from, to)))).toBeLessThanOrEqual(FEATURE_TOL);
    }
    // Each token's range holds its piece's text (the ▁ of a word-initial piece may cover the space before it).
    expect(t.offsets.length).toBe(2 * ids.length);
    for (let i = 0; i < ids.length; i++) {
      const piece = enc.tokenizer.idToToken(ids[i])!.replace(/^▁/, '');
      expect(text.slice(t.offsets[2 * i], t.offsets[2 * i + 1]).trim()).toBe(piece);
    }
    const [empty] = await enc.textFeatures(['']);
    expect(empty.features.rows).toBe(0);
  });

  it('puts the marker (and the document prefix) in every row, and counts them in the token limits as ColBERT does', async () => {
    const marked = await loadTokenEncoder(
      variant({ documentMaxTokens: 200, skipPunctuation: false }, { query: { markerTokenId: 1 }, document: { markerTokenId: 2, prefix: 'passage: ' } }),
      { threads: 2, log: () => {} },
    );
    try {
      const tok = marked.tokenizer;
      const [q] = await marked.queryFeatures(['cells '.repeat(100)]);
      expect(q.rows).toBe(32); // [Q] + 31 tokens
      expect(maxAbsDiff(q.data, await rawTokens([1, ...tok.encode('cells '.repeat(100)).subarray(0, 31)]))).toBeLessThanOrEqual(FEATURE_TOL);
      const prefix = Array.from(tok.encode('passage: '));
      const head = [2, ...prefix]; // every chunk starts with the marker and the prefix
      const body = Array.from(tok.encode(Array.from({ length: 150 }, (_, i) => `cell${i}`).join(' ')));
      const room = 200 - head.length; // document tokens kept: documentMaxTokens less the marker and prefix, counted once
      const chunk = 128 - head.length;
      const [d] = await marked.documentFeatures([{ title: '', text: Array.from({ length: 150 }, (_, i) => `cell${i}`).join(' ') }]);
      expect(d.rows).toBe(room + 2 * head.length);
      expect(maxAbsDiff(d.data.subarray(0, 128 * H), await rawTokens([...head, ...body.slice(0, chunk)]))).toBeLessThanOrEqual(FEATURE_TOL);
      expect(maxAbsDiff(d.data.subarray(128 * H), await rawTokens([...head, ...body.slice(chunk, room)]))).toBeLessThanOrEqual(FEATURE_TOL);
    } finally {
      await marked.dispose();
    }
  });

  it('padded batching: one call per batchSize rows, rows in input order, same features up to kernel rounding', async () => {
    const padded = await loadTokenEncoder(USE_LITE_TOKENS, { threads: 2, batching: 'padded', batchSize: 4, log: () => {} });
    try {
      expect(padded.batching).toBe('padded');
      const docs = [
        { title: 'A', text: 'Vitamin D and bone density in older adults' },
        { title: '', text: 'statins' },
        { title: 'Gut', text: `microbiota ${'in infants '.repeat(60)}` },
        { title: '', text: '' },
        { title: 'p53', text: 'tumour suppressor' },
      ];
      const before = padded.onnxCalls;
      const a = await padded.documentFeatures(docs); // 5 rows (one doc is two chunks, one is empty)
      expect(padded.onnxCalls - before).toBe(2);
      const b = await enc.documentFeatures(docs);
      expect(a.map((m) => m.rows)).toEqual(b.map((m) => m.rows));
      for (let i = 0; i < docs.length; i++) expect(maxAbsDiff(a[i].data, b[i].data)).toBeLessThan(1e-3);
    } finally {
      await padded.dispose();
    }
  });

  it('query augmentation: pads queries with the mask token to queryMaxTokens, attended to', async () => {
    const aug = await loadTokenEncoder(variant({ queryAugmentation: { maskTokenId: 4 } }), { threads: 2, log: () => {} });
    try {
      const text = 'sleep and memory';
      const ids = aug.tokenizer.encode(text);
      const [q, long, empty] = await aug.queryFeatures([text, 'cells '.repeat(100), '']);
      expect(q.rows).toBe(32);
      const row = new Int32Array(32).fill(4);
      row.set(ids);
      expect(maxAbsDiff(q.data, await rawTokens(row))).toBeLessThanOrEqual(FEATURE_TOL);
      // The masks are attended to: the real tokens' features differ from the unaugmented run.
      const [plain] = await enc.queryFeatures([text]);
      expect(maxAbsDiff(q.data.subarray(0, ids.length * H), plain.data)).toBeGreaterThan(1e-3);
      expect(long.rows).toBe(32);
      expect(empty.rows).toBe(0);
      // Documents are not augmented.
      const [d] = await aug.documentFeatures([{ title: '', text }]);
      expect(d.rows).toBe(ids.length);
    } finally {
      await aug.dispose();
    }
  });

  it('runs off the calling thread with the same bits', async () => {
    const off = await loadTokenEncoder(USE_LITE_TOKENS, { threads: 2, offThread: true, log: () => {} });
    try {
      const texts = ['Vitamin D and bone density', ''];
      const [a, b] = [await off.encodeQueryTokens(texts), await enc.encodeQueryTokens(texts)];
      expect(a.map((m) => m.rows)).toEqual(b.map((m) => m.rows));
      expect(a[0].data).toEqual(b[0].data);
    } finally {
      await off.dispose();
    }
    await expect(off.queryFeatures(['x'])).rejects.toThrow(/disposed/);
  });

  describe('projection', () => {
    // A model directory like `colbert train` writes: the model files (linked here) + projection.f32 + manifest.json.
    const dir = join(tmp, 'projected');
    const K = 16;
    const W = new Float32Array(H * K);
    let seed = 7;
    for (let i = 0; i < W.length; i++) W[i] = ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.2;
    const bytes = Buffer.from(W.buffer);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const writeModel = (name: string, file: Buffer, projection: Record<string, unknown>, dimension = K): string => {
      const d = join(tmp, name);
      mkdirSync(d, { recursive: true });
      for (const f of ['model_tokens.onnx', 'tokenizer.json']) symlinkSync(join(USE_LITE_DIR, f), join(d, f));
      writeFileSync(join(d, 'projection.f32'), file);
      const { modelDir: _m, ...base } = BASE;
      const manifest = { ...base, lateInteraction: { ...BASE.lateInteraction, dimension, projection: { file: 'projection.f32', inputDimension: H, sha256: sha, ...projection } }, training: { steps: 3 } };
      writeFileSync(join(d, 'manifest.json'), JSON.stringify(manifest));
      return d;
    };
    /** features · W, each row L2-normalised, in float64. */
    const expected = (f: TokenMatrix, w: Float32Array, k: number): Float64Array => {
      const out = new Float64Array(f.rows * k);
      for (let r = 0; r < f.rows; r++) {
        for (let i = 0; i < H; i++) for (let j = 0; j < k; j++) out[r * k + j] += f.data[r * H + i] * w[i * k + j];
        const n = Math.hypot(...out.subarray(r * k, (r + 1) * k));
        for (let j = 0; j < k; j++) out[r * k + j] /= n;
      }
      return out;
    };

    beforeAll(() => {
      writeModel('projected', bytes, {});
    });

    it('loads projection.f32 and returns X·W with unit rows', async () => {
      const p = await loadTokenEncoder(dir, { threads: 2, log: () => {} });
      try {
        expect(p.dimension).toBe(K);
        expect(p.featureDimension).toBe(H);
        expect(p.projection).toEqual(W);
        expect(p.manifest.training).toEqual({ steps: 3 });
        const doc = { title: 'Sleep', text: 'Adults should sleep seven to nine hours a night.' };
        const [f] = await p.documentFeatures([doc]);
        const [v] = await p.encodeDocumentTokens([doc]);
        expect([v.rows, v.dim]).toEqual([f.rows, K]);
        const want = expected(f, W, K);
        for (let i = 0; i < v.data.length; i++) expect(Math.abs(v.data[i] - want[i])).toBeLessThan(1e-5);
        for (let r = 0; r < v.rows; r++) expect(norm(tokenRow(v, r))).toBeCloseTo(1, 5);
        // A zero feature row stays zero.
        expect(Array.from(p.project({ rows: 1, dim: H, data: new Float32Array(H) }).data)).toEqual(new Array(K).fill(0));
        expect(() => p.project({ rows: 1, dim: K, data: new Float32Array(K) })).toThrow(/features are 16-d, the model's are 512-d/);
      } finally {
        await p.dispose();
      }
    });

    it('opts.projection overrides the file (training scores candidate weights)', async () => {
      const W2 = W.slice(0, H * 8);
      const p = await loadTokenEncoder(dir, { threads: 2, projection: W2, log: () => {} });
      try {
        expect(p.dimension).toBe(8);
        const [f] = await p.queryFeatures(['sleep and memory']);
        const [v] = await p.encodeQueryTokens(['sleep and memory']);
        const want = expected(f, W2, 8);
        for (let i = 0; i < v.data.length; i++) expect(Math.abs(v.data[i] - want[i])).toBeLessThan(1e-5);
      } finally {
        await p.dispose();
      }
      await expect(loadTokenEncoder(dir, { projection: new Float32Array(100) })).rejects.toThrow(/projection override has 100 weights/);
    });

    it('refuses a projection file whose sha256 or size does not match the manifest', async () => {
      const bad = writeModel('bad-sha', bytes, { sha256: 'ab'.repeat(32) });
      await expect(loadTokenEncoder(bad)).rejects.toThrow(/projection file .*bad-sha\/projection\.f32 has sha256 [0-9a-f]{64} but the manifest says abab/);
      const short = writeModel('bad-size', bytes.subarray(0, bytes.length - 4), {});
      await expect(loadTokenEncoder(short)).rejects.toThrow(
        /projection file .*bad-size\/projection\.f32 is 32764 bytes; inputDimension 512 × dimension 16 float32 is 32768 bytes/,
      );
      const missing = join(tmp, 'no-file');
      writeModel('no-file', bytes, { file: 'nope.f32' });
      await expect(loadTokenEncoder(missing)).rejects.toThrow(/late-interaction projection file not found: .*nope\.f32/);
    });
  });

  it('refuses models that are not token models, naming the model and what is missing', async () => {
    const sentence = loadTokenEncoder(join(REPO_ROOT, 'models', 'use-lite'));
    await expect(sentence).rejects.toBeInstanceOf(NotATokenModelError);
    await expect(loadTokenEncoder(join(REPO_ROOT, 'models', 'use-lite'))).rejects.toThrow(
      /use-lite\/manifest\.json: model use-lite is not a late-interaction token model: its output sentence_embedding is kind "sentence", not "tokens".*no lateInteraction block/,
    );
    const { lateInteraction: _l, ...noBlock } = BASE;
    const tokensOnly = resolveManifest(parseManifest({ ...noBlock, modelDir: USE_LITE_DIR }), tmp);
    await expect(loadTokenEncoder(tokensOnly)).rejects.toThrow(/model use-lite-tokens is not a late-interaction token model: it has no lateInteraction block/);
    await expect(loadTokenEncoder(USE_LITE_DIR)).rejects.toThrow(NotATokenModelError); // bare directory: no manifest
  });
});
