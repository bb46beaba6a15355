import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USE_LITE_MODEL } from '../../../../test/index-fixture.ts';
import { loadEncoder, loadManifest, writeDerivedModel, type Encoder } from '../../encoders/index.ts';
import { ADAPTER_FILE, applyAdapter, decodeAdapter, encodeAdapter, identityAdapter, initialAdapter, loadConversationalEncoder, NotAConversationalModelError, viewFeatures, viewTexts } from './index.ts';

let dir: string;
let encoder: Encoder;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'es-convdr-model-'));
  encoder = await loadEncoder(USE_LITE_MODEL, { threads: 1, log: () => {} });
}, 60_000);
afterAll(async () => {
  await encoder?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const conversation = { text: 'Is it treatable?', context: [{ query: 'What is throat cancer?' }, { query: 'Tell me about lung cancer.' }] };

describe('adapter', () => {
  it('round-trips through its file bytes', () => {
    const a = initialAdapter(3, 4, 'mean');
    a.bias[2] = 0.5;
    a.weight[7] = -2.25;
    const back = decodeAdapter(encodeAdapter(a), 12, 4, 'test');
    expect(back.weight).toEqual(a.weight);
    expect(back.bias).toEqual(a.bias);
    expect(() => decodeAdapter(encodeAdapter(a).subarray(4), 12, 4, 'test')).toThrow(/test: 204 bytes; an 12 × 4 float32 matrix and a bias of 4 are 208 bytes/);
  });

  it('as the identity on a view, gives that view back; as the mean, the mean of the views', () => {
    const x = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i));
    const u = applyAdapter(identityAdapter(3, 4, 2), x, 2);
    expect(Array.from(u)).toEqual([...Array.from(x.subarray(8, 12)), ...Array.from(x.subarray(20, 24))]);
    const m = applyAdapter(initialAdapter(3, 4, 'mean'), x.subarray(0, 12), 1);
    for (let j = 0; j < 4; j++) expect(m[j]).toBeCloseTo((x[j] + x[4 + j] + x[8 + j]) / 3, 6);
  });
});

describe('views', () => {
  it('forms raw, first and concat as search does', () => {
    expect(viewTexts(encoder, [conversation], ['raw', 'first', 'concat'])).toEqual([
      ['Is it treatable?', 'What is throat cancer? Is it treatable?', 'What is throat cancer? Tell me about lung cancer. Is it treatable?'],
    ]);
    // No context: every view is the utterance.
    expect(viewTexts(encoder, [{ text: 'hello' }], ['raw', 'first', 'concat'])).toEqual([['hello', 'hello', 'hello']]);
  });
});

describe('loadConversationalEncoder', () => {
  it('loads a written model: base encoder + adapter; with the identity on concat it is the encoder on the concatenation', async () => {
    const loaded = loadManifest(USE_LITE_MODEL);
    const adapter = identityAdapter(3, 512, 2);
    const bytes = encodeAdapter(adapter);
    const out = join(dir, 'student');
    await writeDerivedModel({
      base: loaded,
      out,
      force: true,
      files: { [ADAPTER_FILE]: bytes },
      manifest: (base) => ({ ...base, id: 'tiny-convdr', conversational: { views: ['raw', 'first', 'concat'], dimension: 512, adapter: { file: ADAPTER_FILE, inputDimension: 1536, sha256: createHash('sha256').update(bytes).digest('hex') }, teacher: { id: encoder.modelId, manifestHash: encoder.manifestHash } } }),
    });
    const student = await loadConversationalEncoder(out, { threads: 1, log: () => {} });
    try {
      expect(student).toMatchObject({ modelId: 'tiny-convdr', dimension: 512, teacher: { id: 'use-lite', manifestHash: encoder.manifestHash } });
      expect(student.manifestHash).not.toBe(encoder.manifestHash);
      const v = await student.encodeConversations([conversation]);
      const concat = await encoder.encodeQueries([viewTexts(encoder, [conversation], ['concat'])[0][0]]);
      for (let j = 0; j < 512; j++) expect(v[j]).toBeCloseTo(concat[j], 5);
      const features = await viewFeatures(encoder, [conversation], ['raw', 'first', 'concat']);
      expect(features.length).toBe(1536);
    } finally {
      await student.dispose();
    }
    // A changed adapter file is refused by its checksum.
    await writeFile(join(out, ADAPTER_FILE), encodeAdapter(initialAdapter(3, 512, 'mean')));
    await expect(loadConversationalEncoder(out)).rejects.toThrow(/conversational adapter file .* has sha256 [0-9a-f]{64} but the manifest says/);
  }, 60_000);

  it('refuses a plain model, pointing at `edgesearch convdr train`', async () => {
    await expect(loadConversationalEncoder(USE_LITE_MODEL)).rejects.toThrow(NotAConversationalModelError);
    await expect(loadConversationalEncoder(USE_LITE_MODEL)).rejects.toThrow(/model use-lite has no conversational block: .*`edgesearch convdr train`/);
  });

  it('refuses a manifest whose conversational block does not fit the model', () => {
    const json = { ...JSON.parse(JSON.stringify(loadManifest(USE_LITE_MODEL).manifest)), conversational: { views: ['raw', 'raw'], dimension: 256, adapter: { file: 'a.f32', inputDimension: 512, sha256: '0'.repeat(64) }, teacher: { id: 'x', manifestHash: '0'.repeat(64) } } };
    expect(() => loadManifest(join(dir, 'none'))).toThrow(/not found/);
    // parseManifest through writeDerivedModel's checks: use the schema directly.
    return import('../../encoders/index.ts').then(({ parseManifest }) => {
      expect(() => parseManifest(json, 'm.json')).toThrow(/conversational\.dimension: conversational\.dimension \(256\) must equal the model's dimension \(512\)/);
      expect(() => parseManifest(json, 'm.json')).toThrow(/conversational\.adapter\.inputDimension: adapter\.inputDimension \(512\) must be views × dimension \(2 × 512\)/);
      expect(() => parseManifest(json, 'm.json')).toThrow(/conversational\.views\.1: view "raw" is listed twice/);
    });
  });
});
