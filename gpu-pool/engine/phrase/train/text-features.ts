// The frozen model's token features of every paragraph and question, encoded once and kept in
// colbert train's on-disk feature cache (FeatureCache: float16, keyed by model and text), so a
// second run encodes nothing.
//
// FeatureCache stores L2-normalised rows, and phrase heads need the raw features (start_i = x_i Ws
// is not invariant to the scale of x_i). So each raw row x (H-d) is kept as the unit (H+1)-d row
// [x, c] / ‖[x, c]‖ and read back as x = c · u[0..H) / u[H]: the format's promise holds, and the
// float16 rounding costs the same relative precision as storing x itself (c = 64 keeps u[H] a
// normal float16 for any ‖x‖ below ~10⁶; use-lite's are 30-270).
import { createHash } from 'node:crypto';
import { fillFeatureCache, FeatureCache, FeatureStore, textKey } from '../../colbert/train/index.ts';
import { manifestHash, type LoadedManifest, type ModelManifest, type TokenEncoder } from '../../encoders/index.ts';
import { checksumFile } from '../../shard/index.ts';
import type { BuildIo } from '../../writer/index.ts';

const C = 64;

/** Raw rows (rows × H) → unit rows (rows × (H+1)) as the cache keeps them. */
export function toCachedRows(x: Float32Array, rows: number, H: number): Float32Array {
  const out = new Float32Array(rows * (H + 1));
  for (let r = 0; r < rows; r++) {
    let s = C * C;
    for (let k = 0; k < H; k++) s += x[r * H + k] * x[r * H + k];
    const inv = 1 / Math.sqrt(s);
    for (let k = 0; k < H; k++) out[r * (H + 1) + k] = x[r * H + k] * inv;
    out[r * (H + 1) + H] = C * inv;
  }
  return out;
}

/** Cached rows (rows × (H+1)) → raw rows (rows × H). */
export function fromCachedRows(u: Float32Array, rows: number, H: number, out = new Float32Array(rows * H)): Float32Array {
  for (let r = 0; r < rows; r++) {
    const k0 = r * (H + 1);
    const f = C / u[k0 + H];
    for (let k = 0; k < H; k++) out[r * H + k] = u[k0 + k] * f;
  }
  return out;
}

/**
 * What textFeatures depends on: the manifest without what only shapes heads or projections (phrase,
 * lateInteraction.dimension/projection, id, description), and the bytes of the ONNX and tokenizer files.
 */
export async function featureKey(manifest: ModelManifest, loaded: LoadedManifest): Promise<string> {
  const li = manifest.lateInteraction;
  const shape: ModelManifest = {
    ...manifest,
    id: '-',
    description: undefined,
    phrase: undefined,
    lateInteraction: li ? { ...li, dimension: manifest.dimension, projection: undefined } : undefined,
  };
  const onnx = (await checksumFile(loaded.onnxPath)).sha256;
  const tokenizer = (await checksumFile(loaded.tokenizerPath)).sha256;
  return createHash('sha256').update(`phrase-features-v1\u0000${manifestHash(shape)}\u0000${onnx}\u0000${tokenizer}`).digest('hex');
}

export interface CachedFeatures {
  /** Distinct texts read from the cache / encoded now. */
  reused: number;
  encoded: number;
}

/**
 * The raw token features of each text, from the cache where it has them, else encoded with
 * `encoder.textFeatures` (in batches, with progress) and appended to it; then every text is read
 * back from the cache and handed to `onText(i, features rows × H, rows)` in order (the array is
 * reused: copy what you keep), so a run that encoded and a run that only read give the same numbers.
 */
export async function cachedTextFeatures(o: {
  encoder: TokenEncoder;
  cache: FeatureCache;
  texts: readonly string[];
  what: string;
  io: BuildIo;
  onText: (i: number, features: Float32Array, rows: number) => void;
}): Promise<CachedFeatures> {
  const H = o.encoder.featureDimension;
  const keys = o.texts.map((t) => textKey('text', t));
  const { reused, encoded } = await fillFeatureCache({
    cache: o.cache,
    keys,
    what: o.what,
    progress: o.io.progress ?? false,
    encode: async (idx) => (await o.encoder.textFeatures(idx.map((i) => o.texts[i]))).map((t) => ({ data: toCachedRows(t.features.data, t.features.rows, H), rows: t.features.rows })),
  });
  // Read back in slices: one slice of unit rows in memory at a time.
  const SLICE = 256;
  let raw = new Float32Array(0);
  for (let s = 0; s < keys.length; s += SLICE) {
    const store = new FeatureStore(H + 1);
    const items = await o.cache.read(keys.slice(s, s + SLICE), store);
    items.forEach((item, k) => {
      const rows = store.rows(item);
      if (raw.length < rows * H) raw = new Float32Array(rows * H);
      o.onText(s + k, fromCachedRows(store.view(item), rows, H, raw.subarray(0, rows * H)), rows);
    });
  }
  return { reused, encoded };
}
