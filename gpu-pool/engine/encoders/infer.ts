// Infer a manifest for a Hugging Face style model directory (an ONNX file, tokenizer.json,
// config.json, and the sentence-transformers files when present).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defaultWindow, type ModelManifest, type ModelManifestInput, parseManifest } from './manifest.ts';
import type { OnnxIo } from './session.ts';

/** ONNX files looked for, in order, when none is named. */
export const ONNX_CANDIDATES = ['onnx/model.onnx', 'model.onnx'];

export function findOnnxFile(dir: string): string | undefined {
  return ONNX_CANDIDATES.find((f) => existsSync(join(dir, f)));
}

function readJson(dir: string, file: string): Record<string, unknown> | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path}: not valid JSON: ${(err as Error).message}`);
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

export interface InferOptions {
  /** Model id to record (default: the directory name). */
  id?: string;
  /** ONNX file relative to dir (default: the first of ONNX_CANDIDATES that exists). */
  onnx?: string;
  log?: (msg: string) => void;
}

/**
 * Rules: dimension = config hidden_size (or d_model / dim / dimension), else the output's static last
 * dimension; maxTokens = min(max_position_embeddings, tokenizer_config model_max_length, 512); output
 * `sentence_embedding` → pooled in the graph, else `last_hidden_state` (or `token_embeddings`, or the
 * first output) → tokens pooled in JS as 1_Pooling/config.json says (cls or mean; mean if absent);
 * normalize when modules.json has a Normalize module; query/document prefixes from
 * config_sentence_transformers.json `prompts` (query; document/passage/corpus).
 */
export function inferManifest(dir: string, io: OnnxIo, opts: InferOptions = {}): ModelManifest {
  const log = opts.log ?? (() => {});
  const onnx = opts.onnx ?? findOnnxFile(dir);
  if (!onnx) throw new Error(`no ONNX model in ${dir} (looked for ${ONNX_CANDIDATES.join(', ')})`);
  const config = readJson(dir, 'config.json') ?? {};
  const tokConfig = readJson(dir, 'tokenizer_config.json') ?? {};
  const poolingCfg = readJson(dir, '1_Pooling/config.json');
  const modules = readJson(dir, 'modules.json') as unknown as { type?: string }[] | undefined;
  const stConfig = readJson(dir, 'config_sentence_transformers.json');

  const need = (name: string): string => {
    if (!io.inputNames.includes(name))
      throw new Error(`${join(dir, onnx)}: expected an input named ${name}; inputs are ${io.inputNames.join(', ')}`);
    return name;
  };
  const known = new Set(['input_ids', 'attention_mask', 'token_type_ids']);
  const unknown = io.inputNames.filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`${join(dir, onnx)}: unsupported model inputs ${unknown.join(', ')}`);
  const inputs = {
    inputIds: need('input_ids'),
    attentionMask: need('attention_mask'),
    ...(io.inputNames.includes('token_type_ids') ? { tokenTypeIds: 'token_type_ids' } : {}),
  };

  let output: ModelManifest['output'];
  let pooling: ModelManifest['pooling'];
  if (io.outputNames.includes('sentence_embedding')) {
    output = { name: 'sentence_embedding', kind: 'sentence' };
    pooling = 'in-graph';
  } else {
    const name = ['last_hidden_state', 'token_embeddings'].find((n) => io.outputNames.includes(n)) ?? io.outputNames[0];
    if (!name) throw new Error(`${join(dir, onnx)}: the model has no outputs`);
    output = { name, kind: 'tokens' };
    if (poolingCfg?.pooling_mode_cls_token === true) pooling = 'cls';
    else if (poolingCfg?.pooling_mode_mean_tokens === true) pooling = 'mean';
    else {
      pooling = 'mean';
      log(
        poolingCfg
          ? `1_Pooling/config.json asks for a pooling other than cls/mean; using mean`
          : `no 1_Pooling/config.json; pooling token outputs by mean (edit manifest.json if the model wants cls)`,
      );
    }
  }

  const shape = io.outputShapes[output.name];
  const staticDim = shape && typeof shape[shape.length - 1] === 'number' ? (shape[shape.length - 1] as number) : undefined;
  const dimension = num(config.hidden_size) ?? num(config.d_model) ?? num(config.dim) ?? num(config.dimension) ?? staticDim;
  if (!dimension) throw new Error(`${dir}: cannot tell the embedding dimension (no hidden_size in config.json, no static output shape)`);
  if (staticDim && staticDim !== dimension) {
    log(`config dimension ${dimension} differs from the ONNX output's ${staticDim}; using ${staticDim}`);
  }
  const maxTokens = Math.min(num(config.max_position_embeddings) ?? Infinity, num(tokConfig.model_max_length) ?? Infinity, 512);
  const normalize = Array.isArray(modules) && modules.some((m) => typeof m?.type === 'string' && /Normalize/.test(m.type));
  const prompts = (stConfig?.prompts ?? {}) as Record<string, unknown>;
  const queryPrefix = str(prompts.query);
  const docPrefix = str(prompts.document) ?? str(prompts.passage) ?? str(prompts.corpus);

  const manifest: ModelManifestInput = {
    id: opts.id ?? basename(dir),
    onnx,
    tokenizer: 'tokenizer.json',
    inputs,
    output,
    pooling,
    normalize,
    maxTokens,
    dimension: staticDim ?? dimension,
    query: queryPrefix ? { prefix: queryPrefix } : {},
    document: docPrefix ? { prefix: docPrefix } : {},
    window: defaultWindow(maxTokens),
    titleMaxTokens: Math.min(32, Math.floor(maxTokens / 4)),
    sessionOptions: {},
    executionProviders: ['cuda', 'cpu'],
  };
  return parseManifest(manifest, `inferred manifest for ${dir}`);
}
