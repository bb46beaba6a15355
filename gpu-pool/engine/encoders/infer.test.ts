import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inferManifest } from './infer.ts';
import type { OnnxIo } from './session.ts';

const tmp = mkdtempSync(join(tmpdir(), 'es-infer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function hfDir(name: string, files: Record<string, unknown>): string {
  const dir = join(tmp, name);
  for (const [f, v] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), typeof v === 'string' ? v : JSON.stringify(v));
  }
  return dir;
}

const bertIo: OnnxIo = {
  inputNames: ['input_ids', 'attention_mask', 'token_type_ids'],
  outputNames: ['last_hidden_state'],
  inputTypes: { input_ids: 'int64', attention_mask: 'int64', token_type_ids: 'int64' },
  outputShapes: { last_hidden_state: ['batch_size', 'sequence_length', 384] },
};

describe('inferManifest', () => {
  it('a sentence-transformers MiniLM-style repo: mean pooling, Normalize, 512 tokens', () => {
    const dir = hfDir('minilm', {
      'onnx/model.onnx': '',
      'config.json': { hidden_size: 384, max_position_embeddings: 512, model_type: 'bert' },
      'tokenizer_config.json': { model_max_length: 512 },
      '1_Pooling/config.json': { word_embedding_dimension: 384, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true },
      'modules.json': [
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
      ],
    });
    const m = inferManifest(dir, bertIo, { id: 'sentence-transformers/all-MiniLM-L6-v2' });
    expect(m).toMatchObject({
      id: 'sentence-transformers/all-MiniLM-L6-v2',
      onnx: 'onnx/model.onnx',
      inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' },
      output: { name: 'last_hidden_state', kind: 'tokens' },
      pooling: 'mean',
      normalize: true,
      maxTokens: 512,
      dimension: 384,
      window: { size: 512, stride: 341 },
      titleMaxTokens: 32,
    });
  });

  it('bge/e5 style: cls pooling, prompts become prefixes, model_max_length caps maxTokens', () => {
    const dir = hfDir('bge', {
      'model.onnx': '',
      'config.json': { hidden_size: 384, max_position_embeddings: 514 },
      'tokenizer_config.json': { model_max_length: 256 },
      '1_Pooling/config.json': { pooling_mode_cls_token: true, pooling_mode_mean_tokens: false },
      'config_sentence_transformers.json': { prompts: { query: 'query: ', passage: 'passage: ' } },
    });
    const m = inferManifest(dir, bertIo);
    expect(m).toMatchObject({ id: 'bge', onnx: 'model.onnx', pooling: 'cls', normalize: false, maxTokens: 256 });
    expect(m.query).toEqual({ prefix: 'query: ' });
    expect(m.document).toEqual({ prefix: 'passage: ' });
  });

  it('in-graph sentence_embedding output; dimension from the output shape; clear errors', () => {
    const dir = hfDir('static', { 'model.onnx': '', 'config.json': { dimension: 128 } });
    const io: OnnxIo = {
      inputNames: ['input_ids', 'attention_mask'],
      outputNames: ['sentence_embedding'],
      inputTypes: {},
      outputShapes: { sentence_embedding: ['batch', 128] },
    };
    expect(inferManifest(dir, io)).toMatchObject({ output: { kind: 'sentence' }, pooling: 'in-graph', dimension: 128, maxTokens: 512 });
    expect(() => inferManifest(dir, { ...io, inputNames: ['input_ids', 'attention_mask', 'position_ids'] })).toThrow(
      /unsupported model inputs position_ids/,
    );
    expect(() => inferManifest(join(tmp, 'static', 'nothing'), io)).toThrow(/no ONNX model/);
  });
});
