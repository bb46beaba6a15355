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

  it('in-repo manifests point at the shared models', () => {
    const lite = loadManifest(join(REPO_ROOT, 'models', 'use-lite'));
    expect(lite.modelDir).toBe(resolve(USE_LITE_DIR));
    expect(lite.manifest).toMatchObject({ maxTokens: 128, dimension: 512, window: { size: 120, stride: 80 }, pooling: 'in-graph' });
    expect(loadManifest(join(REPO_ROOT, 'models', 'use-lite-static128')).modelDir).toBe(resolve(STATIC128_DIR));
    expect(loadManifest(join(REPO_ROOT, 'models', 'use-lite-int8w')).onnxPath).toBe(join(resolve(USE_LITE_DIR), 'model_int8w.onnx'));
  });
});
