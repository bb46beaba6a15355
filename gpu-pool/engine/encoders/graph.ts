// What both encoders (sentence vectors in encoder.ts, token matrices in token-encoder.ts) do with a
// manifest's ONNX graph: open it as the manifest says, check it has the inputs and the output the
// manifest names, and feed it a batch of right-padded rows.
import type { ExecutionProvider, LoadedManifest, ModelManifest } from './manifest.ts';
import { createSession, sessionRunner, type OnnxIo, type OnnxRunner, type SessionConfig, type TensorData } from './session.ts';
import { openWorkerRunner } from './session-thread.ts';
import type { Tokenizer } from './tokenizer/index.ts';

export interface RunnerOptions {
  threads?: number;
  providers?: ExecutionProvider[];
  offThread?: boolean;
}

/** A runner (in-thread or on a worker) for an ONNX file, on the given config. */
export function openRunner(onnxPath: string, cfg: SessionConfig, offThread = false): Promise<OnnxRunner> {
  return offThread ? openWorkerRunner(onnxPath, cfg) : createSession(onnxPath, cfg).then(sessionRunner);
}

/** A runner for a loaded manifest: its providers and session options, overridden by `opts`. */
export function openManifestRunner(loaded: LoadedManifest, opts: RunnerOptions, log: (msg: string) => void): Promise<OnnxRunner> {
  const so = loaded.manifest.sessionOptions;
  return openRunner(
    loaded.onnxPath,
    {
      providers: opts.providers ?? loaded.manifest.executionProviders,
      intraOpThreads: opts.threads ?? so.intraOpThreads,
      interOpThreads: so.interOpThreads,
      graphOptimizationLevel: so.graphOptimizationLevel,
      extra: so.extra,
      log,
    },
    opts.offThread,
  );
}

/** Throw, naming `where`, when the graph lacks an input or the output the manifest names, or needs inputs it does not feed. */
export function checkGraphIo(manifest: ModelManifest, io: OnnxIo, where: string): void {
  for (const name of [manifest.inputs.inputIds, manifest.inputs.attentionMask, manifest.inputs.tokenTypeIds]) {
    if (name && !io.inputNames.includes(name))
      throw new Error(`${where}: the ONNX graph has no input ${name} (inputs: ${io.inputNames.join(', ')})`);
  }
  const extraInputs = io.inputNames.filter(
    (n) => n !== manifest.inputs.inputIds && n !== manifest.inputs.attentionMask && n !== manifest.inputs.tokenTypeIds,
  );
  if (extraInputs.length) throw new Error(`${where}: the manifest does not say how to feed inputs ${extraInputs.join(', ')}`);
  if (!io.outputNames.includes(manifest.output.name))
    throw new Error(`${where}: the ONNX graph has no output ${manifest.output.name} (outputs: ${io.outputNames.join(', ')})`);
  const declared = io.outputShapes[manifest.output.name];
  const lastDim = declared?.[declared.length - 1];
  if (typeof lastDim === 'number' && lastDim !== manifest.dimension)
    throw new Error(`${where}: output ${manifest.output.name} is ${lastDim}-d but the manifest says dimension ${manifest.dimension}`);
}

/**
 * Feeds for one batch: `rows` (all non-empty) right padded with `padId` to the longest, attention
 * mask 1 over each row's own tokens, token type ids 0. Tensors are int32 where the graph wants int32.
 */
export function paddedFeeds(manifest: ModelManifest, io: OnnxIo, rows: Int32Array[], padId: number): { feeds: Record<string, TensorData>; T: number } {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Int32Array(B * T);
  rows.forEach((r, b) => {
    if (r.length === 0) throw new Error('internal: empty row');
    ids.set(r, b * T);
    mask.fill(1, b * T, b * T + r.length);
  });
  const tensor = (name: string, data: Int32Array, dims: number[]): TensorData =>
    io.inputTypes[name] === 'int32' ? { type: 'int32', data, dims } : { type: 'int64', data: BigInt64Array.from(data, BigInt), dims };
  const feeds: Record<string, TensorData> = {
    [manifest.inputs.inputIds]: tensor(manifest.inputs.inputIds, ids, [B, T]),
    [manifest.inputs.attentionMask]: tensor(manifest.inputs.attentionMask, mask, [B, T]),
  };
  if (manifest.inputs.tokenTypeIds) feeds[manifest.inputs.tokenTypeIds] = tensor(manifest.inputs.tokenTypeIds, new Int32Array(B * T), [B, T]);
  return { feeds, T };
}

/** Full model row: the tokenizer's specials around `content`, the marker token (if any) right after the leading specials. */
export function modelRow(tokenizer: Tokenizer, content: Int32Array, markerId: number | undefined): Int32Array {
  if (markerId === undefined) return tokenizer.addSpecialTokens(content);
  const { prefix, suffix } = tokenizer.specials;
  const row = new Int32Array(prefix.length + 1 + content.length + suffix.length);
  row.set(prefix, 0);
  row[prefix.length] = markerId;
  row.set(content, prefix.length + 1);
  row.set(suffix, prefix.length + 1 + content.length);
  return row;
}
