import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../../test/fixtures.ts';
import { loadManifest, loadTokenEncoder, writeDerivedModel, type TokenEncoder } from '../../encoders/index.ts';
import { decodePhraseFilter, decodePhraseHeads, encodePhraseFilter, encodePhraseHeads, loadPhraseEncoder, NotAPhraseModelError, sigmoid, tokenBoundaries, type PhraseFilter, type PhraseHeads } from './index.ts';

const USE_LITE_TOKENS = join(REPO_ROOT, 'models', 'use-lite-tokens');
const tmp = mkdtempSync(join(tmpdir(), 'es-phrase-model-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function randomHeads(H: number, d: number, seed: number): PhraseHeads {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.1;
  const m = () => Float32Array.from({ length: H * d }, r);
  return { inputDimension: H, dimension: d, start: m(), end: m(), queryStart: m(), queryEnd: m() };
}

describe('phrase heads file', () => {
  it('round-trips four matrices and refuses a wrong size', () => {
    const h = randomHeads(6, 3, 1);
    const back = decodePhraseHeads(encodePhraseHeads(h), 6, 3, 'x');
    for (const k of ['start', 'end', 'queryStart', 'queryEnd'] as const) expect(Array.from(back[k])).toEqual(Array.from(h[k]));
    expect(() => decodePhraseHeads(encodePhraseHeads(h), 6, 4, 'heads.f32')).toThrow(/heads\.f32: 288 bytes; four 6 × 4 float32 matrices are 384 bytes/);
  });
});

function randomFilter(H: number, seed: number): PhraseFilter {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.2;
  return { inputDimension: H, start: Float32Array.from({ length: H }, r), startBias: 0.25, end: Float32Array.from({ length: H }, r), endBias: -0.5 };
}

describe('phrase filter file', () => {
  it('round-trips the start and end weights and biases, and refuses a wrong size', () => {
    const f = randomFilter(5, 3);
    const bytes = encodePhraseFilter(f);
    expect(bytes.length).toBe(4 * 2 * 6);
    const back = decodePhraseFilter(bytes, 5, 'x');
    expect(Array.from(back.start)).toEqual(Array.from(f.start));
    expect(Array.from(back.end)).toEqual(Array.from(f.end));
    expect([back.startBias, back.endBias]).toEqual([0.25, -0.5]);
    expect(() => decodePhraseFilter(bytes, 6, 'filter.f32')).toThrow(/filter\.f32: 48 bytes; a filter for 6-d features is 2 × \(6 \+ 1\) float32, 56 bytes/);
  });
});

describe('phrase model on use-lite-tokens', () => {
  let tokens: TokenEncoder;
  const heads = randomHeads(512, 8, 7);
  let modelDir: string;
  beforeAll(async () => {
    tokens = await loadTokenEncoder(USE_LITE_TOKENS, { threads: 2, log: () => {} });
    modelDir = join(tmp, 'phrase-model');
    const bytes = encodePhraseHeads(heads);
    await writeDerivedModel({
      base: loadManifest(USE_LITE_TOKENS),
      out: modelDir,
      force: false,
      files: { 'phrase-heads.f32': bytes },
      manifest: (base) => ({ ...base, id: 'test-phrase', phrase: { dimension: 8, heads: { file: 'phrase-heads.f32', inputDimension: 512, sha256: createHash('sha256').update(bytes).digest('hex') } } }),
    });
  });
  afterAll(() => tokens.dispose());

  it('phrases start and end on whole words, never on punctuation, and map back to the exact text', async () => {
    const text = ' Country singer Kevin Skinner (born 1974) won, on September 16, 2009.';
    const [t] = await tokens.textFeatures([text]);
    const b = tokenBoundaries(text, t.ids, t.offsets, tokens.tokenizer);
    const starts: string[] = [];
    const ends: string[] = [];
    for (let i = 0; i < t.ids.length; i++) {
      const piece = text.slice(b.charStart[i], b.charEnd[i]);
      expect(piece).toBe(piece.trim());
      if (b.canStart[i]) starts.push(piece);
      if (b.canEnd[i]) ends.push(piece);
    }
    for (const w of ['Country', 'Kevin', 'Skinner', 'born', '1974', 'September', '16', '2009']) {
      expect(starts.some((p) => p.length > 0 && w.startsWith(p)), `a phrase may start at ${w}`).toBe(true);
      expect(ends.some((p) => w.endsWith(p)), `a phrase may end at ${w}`).toBe(true);
    }
    for (const p of [...starts, ...ends]) expect(/^[\p{P}\p{S}]*$/u.test(p), `"${p}" bounds a phrase`).toBe(false);
    // "Kevin Skinner" is one phrase: from Kevin's first token to Skinner's last.
    const i = Array.from(t.ids.keys()).find((k) => b.canStart[k] && text.slice(b.charStart[k]).startsWith('Kevin'))!;
    const j = Array.from(t.ids.keys()).find((k) => k >= i && b.canEnd[k] && text.slice(0, b.charEnd[k]).endsWith('Skinner'))!;
    expect(text.slice(b.charStart[i], b.charEnd[j])).toBe('Kevin Skinner');
  });

  it('start / end vectors are the token features times the heads; query vectors come from the mean feature', async () => {
    const enc = await loadPhraseEncoder(modelDir, { threads: 2, log: () => {} });
    try {
      expect(enc.dimension).toBe(8);
      expect(enc.maxPhraseTokens).toBe(20);
      const text = 'The fourth season premiered on the NBC network on June 23, 2009.';
      const [p] = await enc.encodePassages([text]);
      const [t] = await tokens.textFeatures([text]);
      expect(p.tokens).toBe(t.ids.length);
      const dot = (x: Float32Array, xo: number, w: Float32Array, col: number) => {
        let s = 0;
        for (let k = 0; k < 512; k++) s += x[xo + k] * w[k * 8 + col];
        return s;
      };
      for (const r of [0, 3, p.tokens - 1])
        for (const c of [0, 5]) {
          expect(p.starts[r * 8 + c]).toBeCloseTo(dot(t.features.data, r * 512, heads.start, c), 3);
          expect(p.ends[r * 8 + c]).toBeCloseTo(dot(t.features.data, r * 512, heads.end, c), 3);
        }
      const [q] = await enc.encodeQueries(['who won season 4']);
      const [qt] = await tokens.textFeatures(['who won season 4']);
      const mean = new Float32Array(512);
      for (let r = 0; r < qt.features.rows; r++) for (let k = 0; k < 512; k++) mean[k] += qt.features.data[r * 512 + k] / qt.features.rows;
      for (const c of [0, 7]) {
        expect(q.start[c]).toBeCloseTo(dot(mean, 0, heads.queryStart, c), 3);
        expect(q.end[c]).toBeCloseTo(dot(mean, 0, heads.queryEnd, c), 3);
      }
    } finally {
      await enc.dispose();
    }
  });

  it('loads without a filter: no per-token filter scores', async () => {
    const enc = await loadPhraseEncoder(modelDir, { threads: 2, log: () => {} });
    try {
      expect(enc.filter).toBeUndefined();
      const [p] = await enc.encodePassages(['The fourth season premiered on June 23, 2009.']);
      expect(p.filter).toBeUndefined();
    } finally {
      await enc.dispose();
    }
  });

  it('with a filter: each passage token gets its start likelihood σ(x · f_start + b_start); the file is checked against its sha256', async () => {
    const filter = randomFilter(512, 5);
    const bytes = encodePhraseFilter(filter);
    const dir = join(tmp, 'phrase-model-filter');
    const headBytes = encodePhraseHeads(heads);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const manifest = (f: { inputDimension: number }) => (base: Record<string, unknown>) => ({
      ...base,
      id: 'test-phrase-filter',
      phrase: { dimension: 8, heads: { file: 'phrase-heads.f32', inputDimension: 512, sha256: sha(headBytes) }, filter: { file: 'phrase-filter.f32', inputDimension: f.inputDimension, sha256: sha(bytes) } },
    });
    await writeDerivedModel({ base: loadManifest(USE_LITE_TOKENS), out: dir, force: false, files: { 'phrase-heads.f32': headBytes, 'phrase-filter.f32': bytes }, manifest: manifest(filter) });
    const enc = await loadPhraseEncoder(dir, { threads: 2, log: () => {} });
    try {
      // The filter is part of what the model is: it changes the manifest hash.
      expect(enc.manifestHash).not.toBe(loadManifest(modelDir).hash);
      expect(Array.from(enc.filter!.start)).toEqual(Array.from(filter.start));
      const text = 'The fourth season premiered on the NBC network on June 23, 2009.';
      const [p] = await enc.encodePassages([text]);
      const [t] = await tokens.textFeatures([text]);
      expect(p.filter).toHaveLength(p.tokens);
      for (const r of [0, 4, p.tokens - 1]) {
        let z = filter.startBias;
        for (let k = 0; k < 512; k++) z += t.features.data[r * 512 + k] * filter.start[k];
        expect(p.filter![r]).toBeCloseTo(sigmoid(z), 4);
      }
    } finally {
      await enc.dispose();
    }
    await expect(
      writeDerivedModel({ base: loadManifest(USE_LITE_TOKENS), out: join(tmp, 'bad-filter'), force: false, files: { 'phrase-heads.f32': headBytes, 'phrase-filter.f32': bytes }, manifest: manifest({ inputDimension: 256 }) }),
    ).rejects.toThrow(/phrase\.filter\.inputDimension: filter\.inputDimension \(256\) must equal the model's dimension \(512\)/);
    writeFileSync(join(dir, 'phrase-filter.f32'), encodePhraseFilter(randomFilter(512, 6)));
    await expect(loadPhraseEncoder(dir)).rejects.toThrow(/phrase filter file .*phrase-filter\.f32 has sha256 [0-9a-f]{64} but the manifest says/);
  });

  it('refuses a token model without phrase heads, and heads whose checksum does not match', async () => {
    await expect(loadPhraseEncoder(USE_LITE_TOKENS)).rejects.toThrow(NotAPhraseModelError);
    await expect(loadPhraseEncoder(USE_LITE_TOKENS)).rejects.toThrow(/has no phrase block: phrase retrieval needs a model made by `edgesearch phrase train`/);
    writeFileSync(join(modelDir, 'phrase-heads.f32'), encodePhraseHeads(randomHeads(512, 8, 8)));
    await expect(loadPhraseEncoder(modelDir)).rejects.toThrow(/phrase heads file .* has sha256 [0-9a-f]{64} but the manifest says/);
  });
});
