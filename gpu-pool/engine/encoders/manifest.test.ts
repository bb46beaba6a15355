import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, STATIC128_DIR, USE_LITE_DIR } from '../../../test/fixtures.ts';
import { loadManifest, manifestHash, parseManifest, resolveModelDir } from './manifest.ts';

const tmp = mkdtempSync(join(tmpdir(), 'es-manifest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = {
  id: 'm',
  onnx: 'model.onnx',
  inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask' },
  output: { name: 'sentence_embedding', kind: 'sentence' },
  pooling: 'in-graph',
  normalize: true,
  maxTokens: 128,
  dimension: 128,
  window: { size: 120, stride: 80 },
  titleMaxTokens: 24,
};

function writeManifest(dir: string, json: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

describe('ModelManifest', () => {
  it('fills defaults', () => {
    const m = parseManifest({ ...base, window: undefined, titleMaxTokens: undefined });
    expect(m.tokenizer).toBe('tokenizer.json');
    expect(m.executionProviders).toEqual(['cpu']);
    expect(m.query).toEqual({});
    expect(m.window).toEqual({ size: 128, stride: 85 });
    expect(m.titleMaxTokens).toBe(32);
  });

  it('names the file and the field in errors', () => {
    const file = writeManifest(join(tmp, 'bad'), { ...base, maxTokens: -3, output: { name: 'x', kind: 'vectors' } });
    expect(() => loadManifest(file)).toThrow(/bad\/manifest\.json: maxTokens: Too small/);
    expect(() => loadManifest(file)).toThrow(/bad\/manifest\.json: output\.kind: Invalid option/);
  });

  it('rejects unknown fields and inconsistent pooling', () => {
    expect(() => parseManifest({ ...base, maxToken: 3 }, 'f.json')).toThrow(/f\.json: \(root\): .*maxToken/);
    expect(() => parseManifest({ ...base, pooling: 'mean' }, 'f.json')).toThrow(/f\.json: pooling: /);
    expect(() => parseManifest({ ...base, window: { size: 100, stride: 120 } }, 'f.json')).toThrow(/window\.stride/);
  });

  it('loads a directory or a file and resolves modelDir relative to the manifest', () => {
    const dir = join(tmp, 'repo', 'models', 'x');
    const file = writeManifest(dir, { ...base, modelDir: resolve(STATIC128_DIR) });
    for (const p of [dir, file]) {
      const l = loadManifest(p);
      expect(l.modelDir).toBe(resolve(STATIC128_DIR));
      expect(l.onnxPath).toBe(join(resolve(STATIC128_DIR), 'model.onnx'));
      expect(l.manifestPath).toBe(file);
    }
  });

  it('says which model file is missing', () => {
    const file = writeManifest(join(tmp, 'missing'), { ...base, modelDir: STATIC128_DIR, onnx: 'nope.onnx' });
    expect(() => loadManifest(file)).toThrow(`ONNX model file not found: ${join(STATIC128_DIR, 'nope.onnx')}`);
    const file2 = writeManifest(join(tmp, 'missing2'), { ...base, modelDir: STATIC128_DIR, tokenizer: 'tok.json' });
    expect(() => loadManifest(file2)).toThrow(`tokenizer file not found: ${join(STATIC128_DIR, 'tok.json')}`);
    expect(() => loadManifest(join(tmp, 'nowhere'))).toThrow(/model manifest not found/);
  });

  it('substitutes EDGESEARCH_SHARED for ../../../shared/', () => {
    expect(resolveModelDir('/r/models/a', '../../../shared/models/x', {})).toBe('/shared/models/x');
    expect(resolveModelDir('/r/models/a', '../../../shared/models/x', { EDGESEARCH_SHARED: '/data/sh' })).toBe('/data/sh/models/x');
    expect(resolveModelDir('/r/models/a', '../other', { EDGESEARCH_SHARED: '/data/sh' })).toBe('/r/models/other');
    expect(resolveModelDir('/r/models/a', undefined)).toBe('/r/models/a');
  });

  it('hashes the canonical manifest: key order, location and runtime knobs do not count', () => {
    const a = parseManifest(base);
    const reordered = parseManifest(JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(base).reverse()))));
    const moved = parseManifest({ ...base, modelDir: '/elsewhere', executionProviders: ['cuda', 'cpu'], sessionOptions: { intraOpThreads: 4 } });
    expect(manifestHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(manifestHash(reordered)).toBe(manifestHash(a));
    expect(manifestHash(moved)).toBe(manifestHash(a));
    expect(manifestHash(parseManifest({ ...base, query: { prefix: 'query: ' } }))).not.toBe(manifestHash(a));
    expect(manifestHash(parseManifest({ ...base, sessionOptions: { graphOptimizationLevel: 'basic' } }))).not.toBe(manifestHash(a));
  });

  it('older manifests hash as they did before lateInteraction/training existed', () => {
    // Computed by manifest.ts before the late-interaction fields were added (models/use-lite).
    expect(loadManifest(join(REPO_ROOT, 'models', 'use-lite')).hash).toBe('c784143da0d65818f7dd649723c606aee359e0fc2d901faae5d37de65794ad49');
  });

  it('in-repo manifests point at the shared models', () => {
    const lite = loadManifest(join(REPO_ROOT, 'models', 'use-lite'));
    expect(lite.modelDir).toBe(resolve(USE_LITE_DIR));
    expect(lite.manifest).toMatchObject({ maxTokens: 128, dimension: 512, window: { size: 120, stride: 80 }, pooling: 'in-graph' });
    expect(loadManifest(join(REPO_ROOT, 'models', 'use-lite-static128')).modelDir).toBe(resolve(STATIC128_DIR));
    expect(loadManifest(join(REPO_ROOT, 'models', 'use-lite-int8w')).onnxPath).toBe(join(resolve(USE_LITE_DIR), 'model_int8w.onnx'));
  });

  it('the token manifest for late interaction', () => {
    const tokens = loadManifest(join(REPO_ROOT, 'models', 'use-lite-tokens'));
    expect(tokens.onnxPath).toBe(join(resolve(USE_LITE_DIR), 'model_tokens.onnx'));
    expect(tokens.manifest).toMatchObject({ output: { name: 'token_embeddings', kind: 'tokens' }, dimension: 512, maxTokens: 128 });
    expect(tokens.manifest.lateInteraction).toEqual({ dimension: 512, queryMaxTokens: 32, documentMaxTokens: 256, skipPunctuation: true });
    expect(tokens.projectionPath).toBeUndefined();
  });
});

describe('ModelManifest: lateInteraction and training', () => {
  const tokens = { ...base, output: { name: 'token_embeddings', kind: 'tokens' }, pooling: 'mean', dimension: 768, maxTokens: 512, window: undefined };
  const projection = { file: 'projection.f32', inputDimension: 768, sha256: 'a'.repeat(64) };

  it('fills defaults: 32 query tokens, 256 document tokens, punctuation skipped', () => {
    const m = parseManifest({ ...tokens, lateInteraction: { dimension: 768 } });
    expect(m.lateInteraction).toEqual({ dimension: 768, queryMaxTokens: 32, documentMaxTokens: 256, skipPunctuation: true });
    const full = {
      dimension: 128, projection, queryMaxTokens: 32, documentMaxTokens: 180, queryAugmentation: { maskTokenId: 103 }, skipPunctuation: false,
    };
    expect(parseManifest({ ...tokens, query: { markerTokenId: 1 }, document: { markerTokenId: 2 }, lateInteraction: full }).lateInteraction).toEqual(full);
  });

  it('is only for token outputs, and its dimensions must fit the model', () => {
    expect(() => parseManifest({ ...base, lateInteraction: { dimension: 128 } }, 'f.json')).toThrow(
      /f\.json: lateInteraction: late interaction needs output kind "tokens", not "sentence"/,
    );
    expect(() => parseManifest({ ...tokens, lateInteraction: { dimension: 128 } }, 'f.json')).toThrow(
      /f\.json: lateInteraction\.dimension: without a projection, lateInteraction\.dimension \(128\) must equal the model's dimension \(768\)/,
    );
    expect(() => parseManifest({ ...tokens, lateInteraction: { dimension: 128, projection: { ...projection, inputDimension: 512 } } }, 'f.json')).toThrow(
      /lateInteraction\.projection\.inputDimension: projection\.inputDimension \(512\) must equal the model's dimension \(768\)/,
    );
    expect(() => parseManifest({ ...tokens, lateInteraction: { dimension: 768, queryMaxTokens: 600 } }, 'f.json')).toThrow(
      /lateInteraction\.queryMaxTokens: queryMaxTokens \(600\) must be ≤ maxTokens \(512\)/,
    );
    expect(() => parseManifest({ ...tokens, lateInteraction: { dimension: 768, documentMaxTokens: 0 } }, 'f.json')).toThrow(/lateInteraction\.documentMaxTokens/);
    expect(() => parseManifest({ ...tokens, lateInteraction: { dimension: 128, projection: { ...projection, sha256: 'xyz' } } }, 'f.json')).toThrow(
      /lateInteraction\.projection\.sha256: must be 64 hex digits/,
    );
    expect(() => parseManifest({ ...tokens, lateInteraction: { dimension: 768, skiplist: [] } }, 'f.json')).toThrow(/skiplist/);
  });

  it('hashes the lateInteraction block (defaults filled in) but not the training record', () => {
    const plain = manifestHash(parseManifest(tokens));
    const li = manifestHash(parseManifest({ ...tokens, lateInteraction: { dimension: 768 } }));
    expect(li).not.toBe(plain);
    expect(manifestHash(parseManifest({ ...tokens, lateInteraction: { dimension: 768, queryMaxTokens: 32, skipPunctuation: true } }))).toBe(li);
    expect(manifestHash(parseManifest({ ...tokens, lateInteraction: { dimension: 768, documentMaxTokens: 300 } }))).not.toBe(li);
    const trained = parseManifest({ ...tokens, lateInteraction: { dimension: 768 }, training: { steps: 1000, started: '2025-01-01' } });
    expect(trained.training).toEqual({ steps: 1000, started: '2025-01-01' });
    expect(manifestHash(trained)).toBe(li);
    const projected = (sha256: string) => manifestHash(parseManifest({ ...tokens, lateInteraction: { dimension: 128, projection: { ...projection, sha256 } } }));
    expect(projected('a'.repeat(64))).not.toBe(projected('b'.repeat(64)));
  });

  it('names a missing projection file by path, relative to the model directory', () => {
    const file = writeManifest(join(tmp, 'proj'), {
      ...tokens, dimension: 512, modelDir: USE_LITE_DIR, onnx: 'model_tokens.onnx',
      lateInteraction: { dimension: 128, projection: { ...projection, inputDimension: 512 } },
    });
    expect(() => loadManifest(file)).toThrow(`late-interaction projection file not found: ${join(USE_LITE_DIR, 'projection.f32')}`);
  });
});
