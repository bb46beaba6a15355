// The phrase filter file (DensePhrases' phrase filter): two linear scores on a token's raw feature,
// a start likelihood σ(x · f_start + b_start) and an end likelihood σ(x · f_end + b_end).
// Little-endian float32: f_start (H), b_start, f_end (H), b_end: 2 (H + 1) floats.
// `index build --filter-threshold T` leaves tokens whose start likelihood is below T out of the
// start index (as DensePhrases filters start positions with the start filter); the end likelihood
// is written and loaded but no build step reads it yet.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LoadedManifest } from '../../encoders/index.ts';
import { matmul } from '../../index/index.ts';

export interface PhraseFilter {
  /** The token model's feature dimension (H). */
  inputDimension: number;
  start: Float32Array;
  startBias: number;
  end: Float32Array;
  endBias: number;
}

/** The file's bytes (little-endian on every host). */
export function encodePhraseFilter(f: PhraseFilter): Buffer {
  const H = f.inputDimension;
  if (f.start.length !== H || f.end.length !== H) throw new Error(`phrase filter: ${f.start.length} start and ${f.end.length} end weights, expected ${H} each`);
  const buf = Buffer.alloc(4 * 2 * (H + 1));
  let o = 0;
  for (const [w, b] of [
    [f.start, f.startBias],
    [f.end, f.endBias],
  ] as const) {
    for (let i = 0; i < H; i++, o += 4) buf.writeFloatLE(w[i], o);
    buf.writeFloatLE(b, o);
    o += 4;
  }
  return buf;
}

export function decodePhraseFilter(buf: Buffer, inputDimension: number, where: string): PhraseFilter {
  const H = inputDimension;
  if (buf.length !== 4 * 2 * (H + 1)) throw new Error(`${where}: ${buf.length} bytes; a filter for ${H}-d features is 2 × (${H} + 1) float32, ${8 * (H + 1)} bytes`);
  const w = (at: number) => {
    const out = new Float32Array(H);
    for (let i = 0; i < H; i++) out[i] = buf.readFloatLE(4 * (at + i));
    return out;
  };
  return { inputDimension: H, start: w(0), startBias: buf.readFloatLE(4 * H), end: w(H + 1), endBias: buf.readFloatLE(4 * (2 * H + 1)) };
}

/** The manifest's filter, checked against its sha256 and size; undefined when the model has none. */
export function readPhraseFilter(loaded: LoadedManifest): PhraseFilter | undefined {
  const spec = loaded.manifest.phrase?.filter;
  if (!spec || !loaded.phraseFilterPath) return undefined;
  const where = loaded.manifestPath ?? `model ${loaded.manifest.id}`;
  const buf = readFileSync(loaded.phraseFilterPath);
  const sha = createHash('sha256').update(buf).digest('hex');
  if (sha !== spec.sha256.toLowerCase())
    throw new Error(`${where}: phrase filter file ${loaded.phraseFilterPath} has sha256 ${sha} but the manifest says ${spec.sha256}: the file is not the one the manifest was written for`);
  return decodePhraseFilter(buf, spec.inputDimension, `${where}: phrase filter file ${loaded.phraseFilterPath}`);
}

/** σ(z), computed in float64. */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Per row of `features` (rows × H): the start and end likelihoods in (0, 1). */
export function filterScores(features: Float32Array, rows: number, f: PhraseFilter): { start: Float32Array; end: Float32Array } {
  const H = f.inputDimension;
  if (features.length < rows * H) throw new RangeError(`phrase filter: ${features.length} floats for ${rows} × ${H}`);
  if (rows === 0) return { start: new Float32Array(0), end: new Float32Array(0) };
  const zs = matmul(features.subarray(0, rows * H), f.start, rows, 1, H);
  const ze = matmul(features.subarray(0, rows * H), f.end, rows, 1, H);
  const start = new Float32Array(rows);
  const end = new Float32Array(rows);
  for (let t = 0; t < rows; t++) {
    start[t] = sigmoid(zs[t] + f.startBias);
    end[t] = sigmoid(ze[t] + f.endBias);
  }
  return { start, end };
}
