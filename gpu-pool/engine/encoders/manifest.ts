// The model manifest: a small JSON file beside a model (or pointing at one through `modelDir`)
// saying how to feed the ONNX graph, read its output, and cut documents into windows.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { Policy } from '../../../shared/protocol/index.ts';

export const MANIFEST_FILE = 'manifest.json';

const Int = z.number().int();

/** A weight file in the model directory: little-endian float32 rows of inputDimension, with its checksum. */
const WeightFile = z
  .object({
    file: z.string().min(1),
    inputDimension: Int.positive(),
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits'),
  })
  .strict();

const TextSide = z
  .object({
    /** Text put before the input, e.g. "query: " for e5 models. */
    prefix: z.string().optional(),
    /** Token id inserted right after the leading special tokens (ColBERT's [Q]/[D] markers). */
    markerTokenId: Int.nonnegative().optional(),
  })
  .strict();

const SessionOptions = z
  .object({
    intraOpThreads: Int.positive().optional(),
    interOpThreads: Int.positive().optional(),
    graphOptimizationLevel: z.enum(['disabled', 'basic', 'extended', 'all']).optional(),
    /** Passed to onnxruntime as `extra` session config, e.g. {session: {qdq_matmulnbits_accuracy_level: "1"}}. */
    extra: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/**
 * An execution provider: its name, or its name with provider options passed to onnxruntime as they
 * are, e.g. {"name": "cuda", "deviceId": 1} so that each process of a several-GPU node uses its own.
 */
export const ExecutionProvider = z.union([
  z.string().min(1),
  z.object({ name: z.string().min(1) }).catchall(z.union([z.string(), z.number(), z.boolean()])),
]);
export type ExecutionProvider = z.infer<typeof ExecutionProvider>;

/** The provider's name, whether given alone or with options. */
export const providerName = (p: ExecutionProvider): string => (typeof p === 'string' ? p : p.name);

/**
 * Late interaction (ColBERT): how a token model's per-token outputs become the vectors that MaxSim
 * compares. Only for `output.kind: "tokens"`; read by token-encoder.ts.
 */
const LateInteraction = z
  .object({
    /** Dimension of the vectors after the projection (= the model's `dimension` without one). */
    dimension: Int.positive(),
    /** Little-endian float32 inputDimension × dimension, row-major (token row vector × matrix), in the model directory. */
    projection: WeightFile.optional(),
    /** Query row length as ColBERT's query_maxlen counts it: special tokens and marker included. */
    queryMaxTokens: Int.positive().default(32),
    /** Document length as ColBERT's doc_maxlen counts it (specials, marker and prefix once + title and text tokens). */
    documentMaxTokens: Int.positive().default(256),
    /** ColBERT query augmentation: queries padded to queryMaxTokens with this token (attended to). */
    queryAugmentation: z.object({ maskTokenId: Int.nonnegative() }).strict().optional(),
    /** Drop document tokens that are only punctuation or symbols (ColBERT's skiplist), after the model ran. */
    skipPunctuation: z.boolean().default(true),
  })
  .strict();

/**
 * Phrase retrieval (DensePhrases): linear heads that turn a token model's features into phrase
 * start and end vectors (passage side) and the query's start and end vectors (from the mean of its
 * token features). Only for `output.kind: "tokens"`; read by gpu-pool/engine/phrase/model.
 */
const Phrase = z
  .object({
    /** Dimension of the start and end vectors. */
    dimension: Int.positive(),
    /** Little-endian float32, four inputDimension × dimension matrices in a row: start, end, query start, query end. */
    heads: WeightFile,
    /**
     * Optional phrase filter (DensePhrases): little-endian float32, a start and an end score on the
     * token feature, each inputDimension weights and a bias (see gpu-pool/engine/phrase/model/filter.ts).
     */
    filter: WeightFile.optional(),
    /** Longest phrase scored, in tokens (DensePhrases' max_answer_length). */
    maxPhraseTokens: Int.positive().max(128).default(20),
    /** Query tokens read (specials included). */
    queryMaxTokens: Int.positive().default(64),
  })
  .strict();

/**
 * Conversational retrieval (ConvDR): the model is a student that reads the conversation. Each view
 * (a query-formation policy, e.g. raw, first, concat) is encoded by the model itself, the view
 * vectors are concatenated and mapped by a linear adapter to one vector in the space of the teacher
 * (the ad hoc model whose index it searches), then L2-normalised. Written by `edgesearch convdr
 * train`; read by gpu-pool/engine/convdr/model.
 */
const Conversational = z
  .object({
    /** The policies whose texts are encoded, in the order of the adapter's input blocks. */
    views: z.array(Policy).min(1),
    /** Dimension of the output vector (= the model's and the teacher's dimension). */
    dimension: Int.positive(),
    /** Little-endian float32: an inputDimension × dimension matrix (row vector × matrix), then a bias of dimension. */
    adapter: WeightFile,
    /** The ad hoc model distilled from: the index searched must be built with it. */
    teacher: z.object({ id: z.string().min(1), manifestHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits') }).strict(),
  })
  .strict();

const ManifestObject = z
  .object({
    id: z.string().min(1),
    description: z.string().optional(),
    /** Directory of the model files, relative to the manifest file (default: the manifest's directory). */
    modelDir: z.string().min(1).optional(),
    onnx: z.string().min(1),
    tokenizer: z.string().min(1).default('tokenizer.json'),
    inputs: z
      .object({ inputIds: z.string().min(1), attentionMask: z.string().min(1), tokenTypeIds: z.string().min(1).optional() })
      .strict(),
    output: z.object({ name: z.string().min(1), kind: z.enum(['sentence', 'tokens']) }).strict(),
    pooling: z.enum(['in-graph', 'cls', 'mean']),
    /** Return unit-length vectors (normalised in JS when the graph has not done it). */
    normalize: z.boolean(),
    /** Longest input the model sees, special tokens included. */
    maxTokens: Int.positive(),
    dimension: Int.positive(),
    query: TextSide.default({}),
    document: TextSide.default({}),
    /** Long documents: body windows of at most `size` tokens, starting `stride` apart (the ratio is kept when a title shortens them; see windows.ts). */
    window: z.object({ size: Int.positive(), stride: Int.positive() }).strict().optional(),
    /** Title tokens kept (and prepended to every window). */
    titleMaxTokens: Int.nonnegative().optional(),
    sessionOptions: SessionOptions.default({}),
    /** Tried in order, falling back to the next (e.g. ["cuda", "cpu"] or [{"name": "cuda", "deviceId": 1}, "cpu"]). */
    executionProviders: z.array(ExecutionProvider).min(1).default(['cpu']),
    /** Token models only: late interaction settings (see token-encoder.ts). */
    lateInteraction: LateInteraction.optional(),
    /** Token models only: phrase heads (see gpu-pool/engine/phrase/model). */
    phrase: Phrase.optional(),
    /** Conversational retrieval (ConvDR): views and adapter (see gpu-pool/engine/convdr/model). */
    conversational: Conversational.optional(),
    /** Free-form record of how the weights were trained (written by `colbert train`; not hashed). */
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const ModelManifest = ManifestObject.superRefine((m, ctx) => {
  if ((m.pooling === 'in-graph') !== (m.output.kind === 'sentence'))
    ctx.addIssue({
      code: 'custom',
      path: ['pooling'],
      message: `pooling "${m.pooling}" does not fit output kind "${m.output.kind}" (sentence ⇔ in-graph; tokens ⇔ cls|mean)`,
    });
  if (m.window && m.window.stride > m.window.size)
    ctx.addIssue({ code: 'custom', path: ['window', 'stride'], message: 'stride must be ≤ window size' });
  if (m.window && m.window.size > m.maxTokens)
    ctx.addIssue({ code: 'custom', path: ['window', 'size'], message: 'window size must be ≤ maxTokens' });
  if (m.titleMaxTokens !== undefined && m.titleMaxTokens >= m.maxTokens)
    ctx.addIssue({ code: 'custom', path: ['titleMaxTokens'], message: 'titleMaxTokens must be < maxTokens' });
  const li = m.lateInteraction;
  if (li) {
    if (m.output.kind !== 'tokens')
      ctx.addIssue({ code: 'custom', path: ['lateInteraction'], message: `late interaction needs output kind "tokens", not "${m.output.kind}"` });
    if (!li.projection && li.dimension !== m.dimension)
      ctx.addIssue({
        code: 'custom',
        path: ['lateInteraction', 'dimension'],
        message: `without a projection, lateInteraction.dimension (${li.dimension}) must equal the model's dimension (${m.dimension})`,
      });
    if (li.projection && li.projection.inputDimension !== m.dimension)
      ctx.addIssue({
        code: 'custom',
        path: ['lateInteraction', 'projection', 'inputDimension'],
        message: `projection.inputDimension (${li.projection.inputDimension}) must equal the model's dimension (${m.dimension})`,
      });
    // A query is one model input: it must fit the graph.
    if (li.queryMaxTokens > m.maxTokens)
      ctx.addIssue({ code: 'custom', path: ['lateInteraction', 'queryMaxTokens'], message: `queryMaxTokens (${li.queryMaxTokens}) must be ≤ maxTokens (${m.maxTokens})` });
  }
  const ph = m.phrase;
  if (ph) {
    if (m.output.kind !== 'tokens')
      ctx.addIssue({ code: 'custom', path: ['phrase'], message: `phrase heads need output kind "tokens", not "${m.output.kind}"` });
    if (ph.heads.inputDimension !== m.dimension)
      ctx.addIssue({
        code: 'custom',
        path: ['phrase', 'heads', 'inputDimension'],
        message: `heads.inputDimension (${ph.heads.inputDimension}) must equal the model's dimension (${m.dimension})`,
      });
    if (ph.filter && ph.filter.inputDimension !== m.dimension)
      ctx.addIssue({
        code: 'custom',
        path: ['phrase', 'filter', 'inputDimension'],
        message: `filter.inputDimension (${ph.filter.inputDimension}) must equal the model's dimension (${m.dimension})`,
      });
    if (ph.queryMaxTokens > m.maxTokens)
      ctx.addIssue({ code: 'custom', path: ['phrase', 'queryMaxTokens'], message: `queryMaxTokens (${ph.queryMaxTokens}) must be ≤ maxTokens (${m.maxTokens})` });
  }
  const cv = m.conversational;
  if (cv) {
    if (cv.dimension !== m.dimension)
      ctx.addIssue({ code: 'custom', path: ['conversational', 'dimension'], message: `conversational.dimension (${cv.dimension}) must equal the model's dimension (${m.dimension}): the student's vectors live in its space` });
    if (cv.adapter.inputDimension !== cv.views.length * m.dimension)
      ctx.addIssue({
        code: 'custom',
        path: ['conversational', 'adapter', 'inputDimension'],
        message: `adapter.inputDimension (${cv.adapter.inputDimension}) must be views × dimension (${cv.views.length} × ${m.dimension})`,
      });
    const seen = new Set<string>();
    cv.views.forEach((v, i) => {
      if (seen.has(v)) ctx.addIssue({ code: 'custom', path: ['conversational', 'views', i], message: `view "${v}" is listed twice` });
      seen.add(v);
    });
  }
}).transform((m) => ({
  ...m,
  window: m.window ?? defaultWindow(m.maxTokens),
  titleMaxTokens: m.titleMaxTokens ?? Math.min(32, Math.floor(m.maxTokens / 4)),
}));

export type ModelManifest = z.output<typeof ModelManifest>;
export type ModelManifestInput = z.input<typeof ModelManifest>;

/** Windows of the whole model length, a new one every 2/3 of it (the ratio measured best for use-lite: 120/80). */
export function defaultWindow(maxTokens: number): { size: number; stride: number } {
  return { size: maxTokens, stride: Math.max(1, Math.round((maxTokens * 2) / 3)) };
}

export interface LoadedManifest {
  manifest: ModelManifest;
  /** The manifest file, when it came from one. */
  manifestPath?: string;
  /** Absolute directory holding the model files. */
  modelDir: string;
  onnxPath: string;
  tokenizerPath: string;
  /** The late-interaction projection file, when the manifest names one. */
  projectionPath?: string;
  /** The phrase heads file, when the manifest names one. */
  phraseHeadsPath?: string;
  /** The phrase filter file, when the manifest names one. */
  phraseFilterPath?: string;
  /** The conversational adapter file, when the manifest names one. */
  conversationalAdapterPath?: string;
  hash: string;
}

/** Format zod issues as `file: field.path: message` lines. */
export function formatIssues(source: string, error: z.ZodError): string {
  return error.issues
    .map((i) => `${source}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('\n');
}

export function parseManifest(json: unknown, source = 'manifest'): ModelManifest {
  const r = ModelManifest.safeParse(json);
  if (!r.success) throw new Error(`invalid model manifest\n${formatIssues(source, r.error)}`);
  return r.data;
}

const SHARED_PREFIX = '../../../shared/';

/**
 * Resolve `modelDir` against the manifest's directory. In-repo manifests (`models/<name>/manifest.json`)
 * point at `../../../shared/models/...` (the shared folder next to the repository). When the env
 * variable EDGESEARCH_SHARED is set, a modelDir starting with `../../../shared/` has that prefix
 * replaced by $EDGESEARCH_SHARED, so the same manifest works wherever the shared folder lives.
 */
export function resolveModelDir(manifestDir: string, modelDir: string | undefined, env = process.env): string {
  if (!modelDir) return resolve(manifestDir);
  const shared = env.EDGESEARCH_SHARED;
  if (shared && modelDir.startsWith(SHARED_PREFIX)) return resolve(shared, modelDir.slice(SHARED_PREFIX.length));
  return isAbsolute(modelDir) ? modelDir : resolve(manifestDir, modelDir);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/**
 * sha256 (hex) of the canonical JSON of the parsed manifest (defaults filled in, keys sorted).
 * It covers what shapes the vectors; it leaves out where the files are (`modelDir`), the
 * free-text `description`, and how they run (`executionProviders`, thread counts), so an index
 * built on a CPU box matches the GPU pool's encoder. The `training` record is left out too: it says
 * how weights were made, and the weights a projection adds are covered by their sha256. Optional
 * blocks a manifest lacks (e.g. `lateInteraction`) add nothing, so older manifests hash as before.
 */
export function manifestHash(manifest: ModelManifest): string {
  const { modelDir: _d, description: _s, executionProviders: _e, training: _t, sessionOptions, ...rest } = manifest;
  const { intraOpThreads: _i, interOpThreads: _o, ...session } = sessionOptions;
  const canonical = JSON.stringify(sortKeys({ ...rest, sessionOptions: session }));
  return createHash('sha256').update(canonical).digest('hex');
}

function requireFile(path: string, what: string, source: string): void {
  if (!existsSync(path)) throw new Error(`${source}: ${what} not found: ${path}`);
}

/** Resolve paths of a parsed manifest and check the ONNX and tokenizer files exist. */
export function resolveManifest(manifest: ModelManifest, manifestDir: string, manifestPath?: string): LoadedManifest {
  const source = manifestPath ?? `manifest ${manifest.id}`;
  const modelDir = resolveModelDir(manifestDir, manifest.modelDir);
  if (!existsSync(modelDir)) throw new Error(`${source}: model directory not found: ${modelDir}`);
  const onnxPath = join(modelDir, manifest.onnx);
  const tokenizerPath = join(modelDir, manifest.tokenizer);
  requireFile(onnxPath, 'ONNX model file', source);
  requireFile(tokenizerPath, 'tokenizer file', source);
  const projection = manifest.lateInteraction?.projection;
  const projectionPath = projection ? join(modelDir, projection.file) : undefined;
  if (projectionPath) requireFile(projectionPath, 'late-interaction projection file', source);
  const heads = manifest.phrase?.heads;
  const phraseHeadsPath = heads ? join(modelDir, heads.file) : undefined;
  if (phraseHeadsPath) requireFile(phraseHeadsPath, 'phrase heads file', source);
  const filter = manifest.phrase?.filter;
  const phraseFilterPath = filter ? join(modelDir, filter.file) : undefined;
  if (phraseFilterPath) requireFile(phraseFilterPath, 'phrase filter file', source);
  const adapter = manifest.conversational?.adapter;
  const conversationalAdapterPath = adapter ? join(modelDir, adapter.file) : undefined;
  if (conversationalAdapterPath) requireFile(conversationalAdapterPath, 'conversational adapter file', source);
  return {
    manifest,
    manifestPath,
    modelDir,
    onnxPath,
    tokenizerPath,
    projectionPath,
    phraseHeadsPath,
    ...(phraseFilterPath ? { phraseFilterPath } : {}),
    ...(conversationalAdapterPath ? { conversationalAdapterPath } : {}),
    hash: manifestHash(manifest),
  };
}

/** Load `<dir>/manifest.json` or a manifest file; resolve the model directory; verify the files exist. */
export function loadManifest(pathOrDir: string): LoadedManifest {
  const abs = resolve(pathOrDir);
  if (!existsSync(abs)) throw new Error(`model manifest not found: ${abs}`);
  const file = statSync(abs).isDirectory() ? join(abs, MANIFEST_FILE) : abs;
  if (!existsSync(file)) throw new Error(`model manifest not found: ${file}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  return resolveManifest(parseManifest(json, file), dirname(file), file);
}
