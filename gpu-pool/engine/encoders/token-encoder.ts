// loadTokenEncoder: a token model (output kind "tokens" + a `lateInteraction` block in its manifest)
// → per-token vectors of queries and documents for late interaction (ColBERT's MaxSim).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DocumentInput, EncoderBatching, LoadEncoderOptions } from './encoder.ts';
import { checkGraphIo, modelRow, openManifestRunner, paddedFeeds } from './graph.ts';
import { type LoadedManifest, loadManifest, MANIFEST_FILE, type ModelManifest } from './manifest.ts';
import type { OnnxRunner } from './session.ts';
import { concatTokenMatrices, emptyTokenMatrix, projectTokens, tokenMatrix, type TokenMatrix } from './token-matrix.ts';
import { loadTokenizer, type Tokenizer } from './tokenizer/index.ts';

/** A model that cannot give late-interaction token vectors: no token output, or no `lateInteraction` block. */
export class NotATokenModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotATokenModelError';
  }
}

export interface LoadTokenEncoderOptions extends LoadEncoderOptions {
  /**
   * featureDimension × k projection weights, row-major, used instead of the manifest's (file or identity);
   * `dimension` becomes k. For scoring with candidate weights while training; `manifestHash` does not
   * describe them.
   */
  projection?: Float32Array;
}

export interface TokenEncoder {
  readonly modelId: string;
  readonly manifestHash: string;
  readonly manifestPath: string;
  readonly manifest: ModelManifest;
  /** Dimension of the vectors it returns (after the projection). */
  readonly dimension: number;
  /** The model's own token dimension (512 for use-lite): what features have. */
  readonly featureDimension: number;
  /** featureDimension × dimension, row-major; undefined = identity. */
  readonly projection: Float32Array | undefined;
  /** The execution provider in use. */
  readonly provider: string;
  /** How rows meet onnxruntime ('auto' resolved against the provider in use). */
  readonly batching: EncoderBatching;
  /** onnxruntime calls made so far. */
  readonly onnxCalls: number;
  readonly tokenizer: Tokenizer;
  /** Model token features, neither projected nor normalised; punctuation skipped on the document side. */
  queryFeatures(texts: string[]): Promise<TokenMatrix[]>;
  documentFeatures(docs: DocumentInput[]): Promise<TokenMatrix[]>;
  /** Features → projected, L2-normalised per row (rows of norm 0 stay 0). */
  project(features: TokenMatrix): TokenMatrix;
  /** project(queryFeatures(...)) / project(documentFeatures(...)). */
  encodeQueryTokens(texts: string[]): Promise<TokenMatrix[]>;
  encodeDocumentTokens(docs: DocumentInput[]): Promise<TokenMatrix[]>;
  /**
   * Features of every token of each text, with where each token is in it: no title, no
   * punctuation skipped, no documentMaxTokens cap (consecutive chunks of the model's input).
   * For phrase models, whose answers must map back to exact text.
   */
  textFeatures(texts: string[]): Promise<TextTokens[]>;
  dispose(): Promise<void>;
}

/** One text's tokens: ids, model features (rows = ids.length) and UTF-16 offsets into the text. */
export interface TextTokens {
  ids: Int32Array;
  features: TokenMatrix;
  /** Flat [start, end) per token, as the tokenizer reports them (a SentencePiece `▁` may cover the space before a word). */
  offsets: Int32Array;
}

/** The manifest of `source`, or NotATokenModelError when it cannot be a token model. */
function loadTokenManifest(source: string | LoadedManifest): LoadedManifest {
  if (typeof source === 'string') {
    const abs = resolve(source);
    // A bare Hugging Face directory gets an inferred manifest, which never has a lateInteraction block.
    if (existsSync(abs) && statSync(abs).isDirectory() && !existsSync(join(abs, MANIFEST_FILE)))
      throw new NotATokenModelError(`${abs}: no ${MANIFEST_FILE}: a token model needs a manifest with output kind "tokens" and a lateInteraction block`);
  }
  const loaded = typeof source === 'string' ? loadManifest(source) : source;
  const { manifest } = loaded;
  const where = loaded.manifestPath ?? `model ${manifest.id}`;
  const missing: string[] = [];
  if (manifest.output.kind !== 'tokens')
    missing.push(`its output ${manifest.output.name} is kind "${manifest.output.kind}", not "tokens" (one vector per text, not per token)`);
  if (!manifest.lateInteraction) missing.push('it has no lateInteraction block');
  if (missing.length)
    throw new NotATokenModelError(
      `${where}: model ${manifest.id} is not a late-interaction token model: ${missing.join('; ')}. ` +
        'Use a token manifest (e.g. models/use-lite-tokens); see gpu-pool/engine/encoders/README.md, "Token models".',
    );
  return loaded;
}

/** The manifest's projection file, checked against its sha256 and size. */
function readProjection(loaded: LoadedManifest): Float32Array | undefined {
  const spec = loaded.manifest.lateInteraction?.projection;
  if (!spec || !loaded.projectionPath) return undefined;
  const path = loaded.projectionPath;
  const where = loaded.manifestPath ?? `model ${loaded.manifest.id}`;
  const buf = readFileSync(path);
  const dim = loaded.manifest.lateInteraction!.dimension;
  const want = spec.inputDimension * dim * 4;
  if (buf.length !== want)
    throw new Error(
      `${where}: projection file ${path} is ${buf.length} bytes; inputDimension ${spec.inputDimension} × dimension ${dim} float32 is ${want} bytes`,
    );
  const sha = createHash('sha256').update(buf).digest('hex');
  if (sha !== spec.sha256.toLowerCase())
    throw new Error(`${where}: projection file ${path} has sha256 ${sha} but the manifest says ${spec.sha256}: the file is not the one the manifest was written for`);
  // Little-endian on every host (the file format says so).
  const w = new Float32Array(buf.length / 4);
  for (let i = 0; i < w.length; i++) w[i] = buf.readFloatLE(i * 4);
  return w;
}

/**
 * Load a token encoder from a manifest file, a directory holding manifest.json, or a loaded manifest.
 * The manifest must have output kind "tokens" and a `lateInteraction` block (else NotATokenModelError,
 * before any session is opened).
 */
export async function loadTokenEncoder(source: string | LoadedManifest, opts: LoadTokenEncoderOptions = {}): Promise<TokenEncoder> {
  const log = opts.log ?? ((msg: string) => console.warn(`[encoders] ${msg}`));
  const loaded = loadTokenManifest(source);
  const featureDimension = loaded.manifest.dimension;
  let projection: Float32Array | undefined;
  if (opts.projection) {
    if (opts.projection.length === 0 || opts.projection.length % featureDimension !== 0)
      throw new Error(`projection override has ${opts.projection.length} weights: not featureDimension ${featureDimension} × k`);
    projection = opts.projection;
  } else projection = readProjection(loaded);
  const dimension = projection ? projection.length / featureDimension : featureDimension;
  const runner = await openManifestRunner(loaded, opts, log);
  try {
    return buildTokenEncoder(loaded, runner, opts, { projection, dimension, featureDimension, log });
  } catch (err) {
    await runner.release();
    throw err;
  }
}

/** After the SentencePiece `▁` / WordPiece `##` marks go, nothing but Unicode punctuation and symbols (or nothing). */
const PUNCTUATION_ONLY = /^[\p{P}\p{S}]*$/u;

export function isPunctuationPiece(piece: string): boolean {
  return PUNCTUATION_ONLY.test(piece.replace(/^▁+/, '').replace(/^##/, ''));
}

interface Built {
  projection: Float32Array | undefined;
  dimension: number;
  featureDimension: number;
  log: (msg: string) => void;
}

function buildTokenEncoder(loaded: LoadedManifest, runner: OnnxRunner, opts: LoadTokenEncoderOptions, b: Built): TokenEncoder {
  const { manifest } = loaded;
  const li = manifest.lateInteraction!;
  const { io, provider } = runner;
  const where = loaded.manifestPath ?? loaded.onnxPath;
  checkGraphIo(manifest, io, where);
  const tokenizer = loadTokenizer(loaded.tokenizerPath, { warn: b.log });
  const H = b.featureDimension;
  const batching: EncoderBatching = opts.batching === 'auto' ? (provider === 'cpu' ? 'rows' : 'padded') : (opts.batching ?? 'rows');
  const batchSize = Math.max(1, opts.batchSize ?? 32);
  let onnxCalls = 0;

  const specials = tokenizer.specials.prefix.length + tokenizer.specials.suffix.length;
  const marks = (m: number | undefined) => (m === undefined ? 0 : 1);
  const docPrefix = manifest.document.prefix ? tokenizer.encode(manifest.document.prefix) : new Int32Array(0);
  // Tokens every row carries besides the text: specials, marker (and the document prefix, repeated in each chunk).
  const queryReserved = specials + marks(manifest.query.markerTokenId);
  const docReserved = specials + marks(manifest.document.markerTokenId) + docPrefix.length;
  const queryRoom = li.queryMaxTokens - queryReserved;
  const docRoom = li.documentMaxTokens - docReserved; // title + text tokens kept
  const chunkRoom = manifest.maxTokens - docReserved; // title + text tokens per model input
  if (queryRoom < 1) throw new Error(`${where}: lateInteraction.queryMaxTokens ${li.queryMaxTokens} leaves no room after ${queryReserved} special/marker tokens`);
  if (docRoom < 1) throw new Error(`${where}: lateInteraction.documentMaxTokens ${li.documentMaxTokens} leaves no room after ${docReserved} special/marker/prefix tokens`);
  if (chunkRoom < 1) throw new Error(`${where}: maxTokens ${manifest.maxTokens} leaves no room after ${docReserved} special/marker/prefix tokens`);

  // Skiplist by token id. Special tokens, markers and the unknown token are never skipped: they
  // are not pieces of the text (use-lite's unknown piece, '�', is a symbol).
  const keep = new Set<number>([...tokenizer.specials.prefix, ...tokenizer.specials.suffix, tokenizer.unkId]);
  for (const m of [manifest.query.markerTokenId, manifest.document.markerTokenId]) if (m !== undefined) keep.add(m);
  const skipCache = new Map<number, boolean>();
  const skipped = (id: number): boolean => {
    let s = skipCache.get(id);
    if (s === undefined) {
      const piece = tokenizer.idToToken(id);
      s = !keep.has(id) && piece !== undefined && isPunctuationPiece(piece);
      skipCache.set(id, s);
    }
    return s;
  };

  /** Run rows (non-empty, ≤ maxTokens) in one call; each row's token features, len × H. */
  const runBatch = async (rows: Int32Array[]): Promise<Float32Array[]> => {
    const B = rows.length;
    const { feeds } = paddedFeeds(manifest, io, rows, tokenizer.padId);
    onnxCalls++;
    const out = await runner.run(feeds, manifest.output.name);
    if (out.type !== 'float32') throw new Error(`${where}: output ${manifest.output.name} is ${out.type}, expected float32`);
    const [ob, oT, oH] = out.dims;
    if (out.dims.length !== 3 || ob !== B || oH !== H)
      throw new Error(`${where}: token output dims [${out.dims}] do not match [${B}, seq, ${H}]`);
    const data = out.data as Float32Array;
    return rows.map((r, i) => {
      if (r.length > oT) throw new Error(`${where}: token output has ${oT} positions for a row of ${r.length} tokens`);
      return data.slice(i * oT * H, (i * oT + r.length) * H);
    });
  };

  const runRows = async (rows: Int32Array[]): Promise<Float32Array[]> => {
    const out: Float32Array[] = new Array(rows.length);
    if (batching === 'rows') {
      for (let i = 0; i < rows.length; i++) out[i] = (await runBatch([rows[i]]))[0];
      return out;
    }
    const order = rows.map((_, i) => i).sort((a, c) => rows[c].length - rows[a].length || a - c);
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = order.slice(s, s + batchSize);
      const feats = await runBatch(idx.map((i) => rows[i]));
      idx.forEach((i, k) => (out[i] = feats[k]));
    }
    return out;
  };

  const queryRow = (text: string): Int32Array | undefined => {
    const prefix = manifest.query.prefix ?? '';
    if (text.length === 0 || (prefix && tokenizer.encode(text).length === 0)) return undefined;
    const ids = tokenizer.encode(prefix + text);
    if (ids.length === 0) return undefined;
    const row = modelRow(tokenizer, ids.length > queryRoom ? ids.slice(0, queryRoom) : ids, manifest.query.markerTokenId);
    const mask = li.queryAugmentation?.maskTokenId;
    if (mask === undefined || row.length >= li.queryMaxTokens) return row;
    // ColBERT query augmentation: [MASK] up to the full query length, attended to (mask 1).
    const padded = new Int32Array(li.queryMaxTokens).fill(mask);
    padded.set(row);
    return padded;
  };

  /** A document's model inputs: title + text ids cut to docRoom, in consecutive chunks of chunkRoom. */
  const documentRows = (doc: DocumentInput): Int32Array[] => {
    const title = tokenizer.encode(doc.title ?? '');
    const text = tokenizer.encode(doc.text ?? '');
    const n = Math.min(title.length + text.length, docRoom);
    const ids = new Int32Array(n);
    ids.set(title.subarray(0, n));
    if (n > title.length) ids.set(text.subarray(0, n - title.length), title.length);
    const rows: Int32Array[] = [];
    for (let s = 0; s < n; s += chunkRoom) {
      const chunk = ids.subarray(s, Math.min(s + chunkRoom, n));
      const content = docPrefix.length ? Int32Array.from([...docPrefix, ...chunk]) : chunk;
      rows.push(modelRow(tokenizer, content, manifest.document.markerTokenId));
    }
    return rows;
  };

  // Where a document chunk's content starts in its model row (specials, marker, document prefix).
  const docLead = tokenizer.specials.prefix.length + marks(manifest.document.markerTokenId) + docPrefix.length;
  const textRows = (ids: Int32Array): Int32Array[] => {
    const rows: Int32Array[] = [];
    for (let s = 0; s < ids.length; s += chunkRoom) {
      const chunk = ids.subarray(s, Math.min(s + chunkRoom, ids.length));
      rows.push(modelRow(tokenizer, docPrefix.length ? Int32Array.from([...docPrefix, ...chunk]) : chunk, manifest.document.markerTokenId));
    }
    return rows;
  };

  /** Features of a row, without its skipped positions. */
  const keptRows = (row: Int32Array, feats: Float32Array): TokenMatrix => {
    if (!li.skipPunctuation) return tokenMatrix(row.length, H, feats);
    let kept = 0;
    for (const id of row) if (!skipped(id)) kept++;
    if (kept === row.length) return tokenMatrix(row.length, H, feats);
    const out = new Float32Array(kept * H);
    let o = 0;
    for (let t = 0; t < row.length; t++) {
      if (skipped(row[t])) continue;
      out.set(feats.subarray(t * H, (t + 1) * H), o);
      o += H;
    }
    return tokenMatrix(kept, H, out);
  };

  let disposed = false;
  const live = () => {
    if (disposed) throw new Error(`token encoder ${manifest.id} was disposed`);
  };

  const project = (features: TokenMatrix): TokenMatrix => {
    if (features.dim !== H) throw new Error(`token encoder ${manifest.id}: features are ${features.dim}-d, the model's are ${H}-d`);
    return projectTokens(features, b.projection, b.dimension);
  };

  const enc: TokenEncoder = {
    modelId: manifest.id,
    manifestHash: loaded.hash,
    manifestPath: loaded.manifestPath ?? loaded.modelDir,
    manifest,
    dimension: b.dimension,
    featureDimension: H,
    projection: b.projection,
    provider,
    batching,
    get onnxCalls() {
      return onnxCalls;
    },
    tokenizer,
    async queryFeatures(texts) {
      live();
      const rows = texts.map(queryRow);
      const present = rows.filter((r): r is Int32Array => r !== undefined);
      const feats = await runRows(present);
      let k = 0;
      return rows.map((r) => (r === undefined ? emptyTokenMatrix(H) : tokenMatrix(r.length, H, feats[k++])));
    },
    async documentFeatures(docs) {
      live();
      const perDoc = docs.map(documentRows);
      const rows = perDoc.flat();
      const feats = await runRows(rows);
      let k = 0;
      return perDoc.map((chunks) => {
        if (chunks.length === 0) return emptyTokenMatrix(H);
        const parts = chunks.map((r) => keptRows(r, feats[k++]));
        return parts.length === 1 ? parts[0] : concatTokenMatrices(parts, H);
      });
    },
    async textFeatures(texts) {
      live();
      const encodings = texts.map((t) => tokenizer.encodeWithOffsets(t));
      const perText = encodings.map((e) => textRows(e.ids));
      const feats = await runRows(perText.flat());
      let k = 0;
      return encodings.map((e, i) => {
        const out = new Float32Array(e.ids.length * H);
        let at = 0;
        for (const row of perText[i]) {
          const n = row.length - docLead - tokenizer.specials.suffix.length;
          out.set(feats[k++].subarray(docLead * H, (docLead + n) * H), at * H);
          at += n;
        }
        return { ids: e.ids, features: tokenMatrix(e.ids.length, H, out), offsets: e.offsets };
      });
    },
    project,
    async encodeQueryTokens(texts) {
      return (await enc.queryFeatures(texts)).map(project);
    },
    async encodeDocumentTokens(docs) {
      return (await enc.documentFeatures(docs)).map(project);
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await runner.release();
    },
  };
  return enc;
}
