// loadEncoder: a manifest (or a Hugging Face style directory) → tokenizer + onnxruntime session
// → query vectors and document-window vectors.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findOnnxFile, inferManifest, ONNX_CANDIDATES } from './infer.ts';
import { checkGraphIo, modelRow, openManifestRunner, openRunner, paddedFeeds } from './graph.ts';
import { type ExecutionProvider, type LoadedManifest, loadManifest, MANIFEST_FILE, type ModelManifest, resolveManifest } from './manifest.ts';
import { clsPool, l2NormalizeRows, meanPool } from './pooling.ts';
import type { OnnxRunner } from './session.ts';
import { loadTokenizer, type Tokenizer } from './tokenizer/index.ts';
import { splitWindows, truncateQuery, type WindowPlan } from './windows.ts';

export interface LoadEncoderOptions {
  /** onnxruntime intra-op threads (default: manifest sessionOptions.intraOpThreads, else onnxruntime's default). */
  threads?: number;
  /** Execution providers to try in order (default: the manifest's executionProviders). */
  providers?: ExecutionProvider[];
  /** Where warnings go (provider fallback, tokenizer approximations); default console.warn. */
  log?: (msg: string) => void;
  /**
   * How rows meet onnxruntime (default 'rows'):
   * - 'rows': every row runs through the graph on its own, so a text's vector never depends on which
   *   other texts share the call (onnxruntime's CPU kernels are NOT batch-composition invariant: a
   *   row's output changes in the last bits, ~1e-7, with the other rows of the batch).
   * - 'padded': rows are sorted by length and run `batchSize` at a time, right padded: one call per
   *   `batchSize` rows (what an accelerator needs to be used well; vectors then vary in the last bits).
   * - 'auto': 'padded' when the execution provider in use is an accelerator, 'rows' on CPU.
   */
  batching?: EncoderBatching | 'auto';
  /** Rows per onnxruntime call with 'padded' batching (default 32). */
  batchSize?: number;
  /**
   * Run onnxruntime on a worker thread (default false). onnxruntime-node computes synchronously on
   * the calling thread, so a server that encodes on its event loop cannot answer, shed or route
   * anything while a batch runs; tokenizing and pooling stay on the calling thread.
   */
  offThread?: boolean;
}

export type EncoderBatching = 'rows' | 'padded';

export interface DocumentInput {
  title: string;
  text: string;
}

export interface Encoder {
  readonly manifest: ModelManifest;
  readonly modelId: string;
  readonly manifestHash: string;
  readonly dimension: number;
  readonly maxTokens: number;
  /** The manifest file, or the model directory when the manifest was inferred: loadEncoder(manifestPath) loads it again. */
  readonly manifestPath: string;
  /** How documents are cut: body window size and stride (tokens), title cap. */
  readonly window: { readonly size: number; readonly stride: number; readonly titleMaxTokens: number };
  /** The execution provider in use (e.g. 'cpu' after a 'cuda' fallback). */
  readonly provider: string;
  /** How rows meet onnxruntime ('auto' resolved against the provider in use). */
  readonly batching: EncoderBatching;
  /** onnxruntime calls made so far (each runs one batch of rows). */
  readonly onnxCalls: number;
  readonly tokenizer: Tokenizer;
  /** Token ids of `text`, without special tokens, prefix or truncation. */
  tokenize(text: string): Int32Array;
  /** n × dimension, row-major; query prefix applied, cut to the model length. */
  encodeQueries(texts: string[]): Promise<Float32Array>;
  /** Title (capped) + body windows of one document, as token ids without special tokens. Never empty. */
  documentWindows(doc: DocumentInput): Int32Array[];
  /** windows.length × dimension, in input order. */
  encodeWindows(windows: Int32Array[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** A manifest file or a directory with manifest.json → loaded manifest; a bare HF-style directory → its path. */
function classifySource(source: string | LoadedManifest): { loaded: LoadedManifest } | { bareDir: string } {
  if (typeof source !== 'string') return { loaded: source };
  const abs = resolve(source);
  if (existsSync(abs) && statSync(abs).isDirectory() && !existsSync(join(abs, MANIFEST_FILE))) {
    if (!existsSync(join(abs, 'tokenizer.json')))
      throw new Error(`${abs}: no ${MANIFEST_FILE} and no tokenizer.json: not a model directory`);
    return { bareDir: abs };
  }
  return { loaded: loadManifest(abs) };
}

/**
 * Load an encoder from a manifest file, a directory holding manifest.json, an already loaded manifest,
 * or a bare Hugging Face style directory (ONNX + tokenizer.json + config.json; manifest inferred as
 * `inferManifest` does, run on the providers in `opts.providers` or CPU).
 */
export async function loadEncoder(source: string | LoadedManifest, opts: LoadEncoderOptions = {}): Promise<Encoder> {
  const log = opts.log ?? ((msg: string) => console.warn(`[encoders] ${msg}`));
  const src = classifySource(source);
  let loaded: LoadedManifest;
  let runner: OnnxRunner;
  if ('bareDir' in src) {
    // Open the graph first to read its input/output names, then infer the manifest.
    const dir = src.bareDir;
    const onnx = findOnnxFile(dir);
    if (!onnx) throw new Error(`${dir}: no ${MANIFEST_FILE} and no ONNX model (${ONNX_CANDIDATES.join(' or ')})`);
    runner = await openRunner(join(dir, onnx), { providers: opts.providers ?? ['cpu'], intraOpThreads: opts.threads, log }, opts.offThread);
    try {
      loaded = resolveManifest(inferManifest(dir, runner.io, { onnx, log }), dir);
    } catch (err) {
      await runner.release();
      throw err;
    }
  } else {
    loaded = src.loaded;
    runner = await openManifestRunner(loaded, opts, log);
  }
  try {
    return buildEncoder(loaded, runner, opts, log);
  } catch (err) {
    await runner.release();
    throw err;
  }
}

function buildEncoder(loaded: LoadedManifest, runner: OnnxRunner, opts: LoadEncoderOptions, log: (msg: string) => void): Encoder {
  const { manifest } = loaded;
  const { io, provider } = runner;
  const where = loaded.manifestPath ?? loaded.onnxPath;
  checkGraphIo(manifest, io, where);

  const tokenizer = loadTokenizer(loaded.tokenizerPath, { warn: log });
  const dim = manifest.dimension;
  const marker = (m: number | undefined) => (m === undefined ? [] : [m]);
  const specialsLen = tokenizer.specials.prefix.length + tokenizer.specials.suffix.length;
  const queryPlan: WindowPlan = {
    maxTokens: manifest.maxTokens,
    reserved: specialsLen + marker(manifest.query.markerTokenId).length,
    windowSize: manifest.window.size,
    stride: manifest.window.stride,
    titleMaxTokens: manifest.titleMaxTokens,
    // A row must never be empty (trailing all-padding rows vanish from use-lite's output): an empty text
    // becomes the tokenizer's encoding of " " (use-lite: '▁'), else the unknown token.
    fallbackToken: tokenizer.encode(' ')[0] ?? tokenizer.unkId,
  };
  const docPlan: WindowPlan = { ...queryPlan, reserved: specialsLen + marker(manifest.document.markerTokenId).length };
  const docPrefix = manifest.document.prefix ? tokenizer.encode(manifest.document.prefix) : new Int32Array(0);
  const batching: EncoderBatching = opts.batching === 'auto' ? (provider === 'cpu' ? 'rows' : 'padded') : (opts.batching ?? 'rows');
  const batchSize = Math.max(1, opts.batchSize ?? 32);
  let onnxCalls = 0;

  const toRow = (content: Int32Array, markerId: number | undefined) => modelRow(tokenizer, content, markerId);

  /** Run rows (all non-empty, ≤ maxTokens) in one call; returns rows.length × dim. */
  const runBatch = async (rows: Int32Array[]): Promise<Float32Array> => {
    const B = rows.length;
    const { feeds } = paddedFeeds(manifest, io, rows, tokenizer.padId);
    onnxCalls++;
    const out = await runner.run(feeds, manifest.output.name);
    const data = out.data as Float32Array;
    if (out.type !== 'float32') throw new Error(`${where}: output ${manifest.output.name} is ${out.type}, expected float32`);
    if (out.dims[0] !== B)
      throw new Error(`${where}: output ${manifest.output.name} has ${out.dims[0]} rows for a batch of ${B}`);
    let vecs: Float32Array;
    if (manifest.output.kind === 'sentence') {
      if (out.dims.length !== 2 || out.dims[1] !== dim)
        throw new Error(`${where}: output dims [${out.dims}] do not match dimension ${dim}`);
      vecs = data; // the runner's copy: ours to normalize in place
    } else {
      if (out.dims.length !== 3 || out.dims[2] !== dim)
        throw new Error(`${where}: token output dims [${out.dims}] do not match [batch, seq, ${dim}]`);
      vecs =
        manifest.pooling === 'cls'
          ? clsPool(data, out.dims)
          : meanPool(data, out.dims, rows.map((r) => r.length));
    }
    return manifest.normalize ? l2NormalizeRows(vecs, dim) : vecs;
  };

  const encodeRows = async (rows: Int32Array[]): Promise<Float32Array> => {
    const out = new Float32Array(rows.length * dim);
    if (batching === 'rows') {
      for (let i = 0; i < rows.length; i++) out.set(await runBatch([rows[i]]), i * dim);
      return out;
    }
    const order = rows.map((_, i) => i).sort((a, b) => rows[b].length - rows[a].length || a - b);
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      const vecs = await runBatch(idx.map((i) => rows[i]));
      idx.forEach((i, k) => out.set(vecs.subarray(k * dim, (k + 1) * dim), i * dim));
    }
    return out;
  };

  let disposed = false;
  const live = () => {
    if (disposed) throw new Error(`encoder ${manifest.id} was disposed`);
  };

  return {
    manifest,
    modelId: manifest.id,
    manifestHash: loaded.hash,
    dimension: dim,
    maxTokens: manifest.maxTokens,
    manifestPath: loaded.manifestPath ?? loaded.modelDir,
    window: { size: manifest.window.size, stride: manifest.window.stride, titleMaxTokens: manifest.titleMaxTokens },
    provider,
    batching,
    get onnxCalls() {
      return onnxCalls;
    },
    tokenizer,
    tokenize: (text) => tokenizer.encode(text),
    async encodeQueries(texts) {
      live();
      const prefix = manifest.query.prefix ?? '';
      const rows = texts.map((t) =>
        toRow(truncateQuery(tokenizer.encode(prefix + t), queryPlan), manifest.query.markerTokenId),
      );
      return encodeRows(rows);
    },
    documentWindows(doc) {
      return splitWindows(docPrefix, tokenizer.encode(doc.title ?? ''), tokenizer.encode(doc.text ?? ''), docPlan);
    },
    async encodeWindows(windows) {
      live();
      const room = manifest.maxTokens - docPlan.reserved;
      const rows = windows.map((w, i) => {
        if (w.length > room) throw new Error(`window ${i} has ${w.length} tokens; at most ${room} fit`);
        return toRow(w.length > 0 ? w : Int32Array.of(queryPlan.fallbackToken), manifest.document.markerTokenId);
      });
      return encodeRows(rows);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await runner.release();
    },
  };
}
