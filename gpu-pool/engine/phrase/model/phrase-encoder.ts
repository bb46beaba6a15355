// loadPhraseEncoder: a token model with phrase heads → per passage token the start and end
// vectors of DensePhrases (features × linear head, not normalised: scores are inner products)
// and where phrases may start and end; per query its start and end vectors, from the mean of
// its token features. A model with a phrase filter (filter.ts) also gives each passage token its
// start likelihood (`filter`), which `index build --filter-threshold` reads.
import { loadManifest, loadTokenEncoder, type LoadedManifest, type LoadTokenEncoderOptions, type TextTokens, type TokenEncoder } from '../../encoders/index.ts';
import { matmul } from '../../index/index.ts';
import { tokenBoundaries, type TokenBoundaries } from './boundaries.ts';
import { filterScores, readPhraseFilter, type PhraseFilter } from './filter.ts';
import { readPhraseHeads, type PhraseHeads } from './heads.ts';

export interface PassagePhrases {
  /** Tokens of the passage text (rows of starts / ends). */
  tokens: number;
  /** tokens × dimension. */
  starts: Float32Array;
  ends: Float32Array;
  boundaries: TokenBoundaries;
  /** Per token, the phrase filter's start likelihood σ(x · f_start + b_start), when the model has a filter. */
  filter?: Float32Array;
}

export interface PhraseQueryVectors {
  start: Float32Array;
  end: Float32Array;
}

export interface PhraseEncoder {
  readonly modelId: string;
  readonly manifestHash: string;
  readonly manifestPath: string;
  /** Start / end vector dimension. */
  readonly dimension: number;
  readonly maxPhraseTokens: number;
  readonly heads: PhraseHeads;
  /** The phrase filter, when the model has one (manifest phrase.filter). */
  readonly filter?: PhraseFilter;
  readonly tokens: TokenEncoder;
  encodePassages(texts: string[]): Promise<PassagePhrases[]>;
  encodeQueries(texts: string[]): Promise<PhraseQueryVectors[]>;
  dispose(): Promise<void>;
}

/** The question cut after its first `max` tokens, as the model reads it (training and search alike). */
export function cutQuery(tokenizer: TokenEncoder['tokenizer'], text: string, max: number): string {
  const enc = tokenizer.encodeWithOffsets(text);
  return enc.ids.length <= max ? text : text.slice(0, enc.offsets[2 * max - 1]);
}

/** Mean of a text's token feature rows (zeros for an empty text). */
export function meanFeatures(t: TextTokens): Float32Array {
  const { rows, dim, data } = t.features;
  const out = new Float32Array(dim);
  if (rows === 0) return out;
  const acc = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) acc[j] += data[r * dim + j];
  for (let j = 0; j < dim; j++) out[j] = acc[j] / rows;
  return out;
}

/** Features (rows × H) → rows × d through one head. */
export function applyHead(features: Float32Array, rows: number, head: Float32Array, h: PhraseHeads): Float32Array {
  if (rows === 0) return new Float32Array(0);
  return matmul(features, head, rows, h.dimension, h.inputDimension);
}

/** Passage side: a passage's token features → its phrase vectors and boundaries (and start likelihoods, given a filter). */
export function passagePhrases(text: string, t: TextTokens, h: PhraseHeads, tokenizer: TokenEncoder['tokenizer'], filter?: PhraseFilter): PassagePhrases {
  const n = t.features.rows;
  return {
    tokens: n,
    starts: applyHead(t.features.data, n, h.start, h),
    ends: applyHead(t.features.data, n, h.end, h),
    boundaries: tokenBoundaries(text, t.ids, t.offsets, tokenizer),
    ...(filter ? { filter: filterScores(t.features.data, n, filter).start } : {}),
  };
}

/** Query side: the mean token feature → query start and end vectors. */
export function queryVectors(t: TextTokens, h: PhraseHeads): PhraseQueryVectors {
  const q = meanFeatures(t);
  return { start: applyHead(q, 1, h.queryStart, h), end: applyHead(q, 1, h.queryEnd, h) };
}

export async function loadPhraseEncoder(source: string | LoadedManifest, opts: LoadTokenEncoderOptions = {}): Promise<PhraseEncoder> {
  const loaded = typeof source === 'string' ? loadManifest(source) : source;
  // Checked before an ONNX session is opened.
  const heads = readPhraseHeads(loaded);
  const filter = readPhraseFilter(loaded);
  const tokens = await loadTokenEncoder(loaded, opts);
  const spec = loaded.manifest.phrase!;
  return {
    modelId: tokens.modelId,
    manifestHash: tokens.manifestHash,
    manifestPath: tokens.manifestPath,
    dimension: spec.dimension,
    maxPhraseTokens: spec.maxPhraseTokens,
    heads,
    ...(filter ? { filter } : {}),
    tokens,
    async encodePassages(texts) {
      const feats = await tokens.textFeatures(texts);
      return feats.map((t, i) => passagePhrases(texts[i], t, heads, tokens.tokenizer, filter));
    },
    async encodeQueries(texts) {
      // A question longer than queryMaxTokens is cut there, as the model was trained.
      const cut = texts.map((text) => cutQuery(tokens.tokenizer, text, spec.queryMaxTokens));
      return (await tokens.textFeatures(cut)).map((t) => queryVectors(t, heads));
    },
    dispose: () => tokens.dispose(),
  };
}
