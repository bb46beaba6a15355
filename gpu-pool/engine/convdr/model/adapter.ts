// The student's adapter: a linear map from the concatenated view vectors (views × d) to one d-dim
// vector, plus a bias, then L2 normalisation. File: little-endian float32, the inputDimension × d
// matrix row-major (row vector × matrix), then the d bias entries.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LoadedManifest } from '../../encoders/index.ts';
import { matmul } from '../../index/index.ts';

export interface Adapter {
  /** views × dimension. */
  inputDimension: number;
  dimension: number;
  /** inputDimension × dimension, row-major. */
  weight: Float32Array;
  bias: Float32Array;
}

export const ADAPTER_FILE = 'convdr-adapter.f32';

/** The model is not a conversational (ConvDR) model. */
export class NotAConversationalModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAConversationalModelError';
  }
}

/**
 * The adapter's starting point, zero bias. `block` a view's index: the identity on that view's block,
 * zero elsewhere (the student is then that view's encoder). `'mean'`: the identity over `views` on
 * every block (the student is then the normalised mean of the view vectors).
 */
export function initialAdapter(views: number, dimension: number, block: number | 'mean'): Adapter {
  if (block !== 'mean') return identityAdapter(views, dimension, block);
  const weight = new Float32Array(views * dimension * dimension);
  for (let v = 0; v < views; v++) for (let i = 0; i < dimension; i++) weight[(v * dimension + i) * dimension + i] = 1 / views;
  return { inputDimension: views * dimension, dimension, weight, bias: new Float32Array(dimension) };
}

/** Identity on view `block` (of `views`), zero elsewhere, zero bias: the student is then that view's encoder. */
export function identityAdapter(views: number, dimension: number, block: number): Adapter {
  if (block < 0 || block >= views) throw new RangeError(`identity block ${block} is not one of ${views} views`);
  const weight = new Float32Array(views * dimension * dimension);
  for (let i = 0; i < dimension; i++) weight[(block * dimension + i) * dimension + i] = 1;
  return { inputDimension: views * dimension, dimension, weight, bias: new Float32Array(dimension) };
}

export function encodeAdapter(a: Adapter): Buffer {
  if (a.weight.length !== a.inputDimension * a.dimension || a.bias.length !== a.dimension) throw new Error(`adapter: ${a.weight.length} weights and ${a.bias.length} biases do not fit ${a.inputDimension} × ${a.dimension}`);
  const buf = Buffer.alloc(4 * (a.weight.length + a.bias.length));
  a.weight.forEach((w, i) => buf.writeFloatLE(w, 4 * i));
  a.bias.forEach((w, i) => buf.writeFloatLE(w, 4 * (a.weight.length + i)));
  return buf;
}

export function decodeAdapter(buf: Buffer, inputDimension: number, dimension: number, where: string): Adapter {
  const n = inputDimension * dimension;
  if (buf.length !== 4 * (n + dimension)) throw new Error(`${where}: ${buf.length} bytes; an ${inputDimension} × ${dimension} float32 matrix and a bias of ${dimension} are ${4 * (n + dimension)} bytes`);
  const weight = new Float32Array(n);
  for (let i = 0; i < n; i++) weight[i] = buf.readFloatLE(4 * i);
  const bias = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) bias[i] = buf.readFloatLE(4 * (n + i));
  return { inputDimension, dimension, weight, bias };
}

/** The manifest's adapter, checked against its sha256 and size. */
export function readAdapter(loaded: LoadedManifest): Adapter {
  const spec = loaded.manifest.conversational;
  const where = loaded.manifestPath ?? `model ${loaded.manifest.id}`;
  if (!spec || !loaded.conversationalAdapterPath)
    throw new NotAConversationalModelError(
      `${where}: model ${loaded.manifest.id} has no conversational block: mode conversational needs a model made by \`edgesearch convdr train\` (a base encoder with a trained adapter)`,
    );
  const buf = readFileSync(loaded.conversationalAdapterPath);
  const sha = createHash('sha256').update(buf).digest('hex');
  if (sha !== spec.adapter.sha256.toLowerCase())
    throw new Error(`${where}: conversational adapter file ${loaded.conversationalAdapterPath} has sha256 ${sha} but the manifest says ${spec.adapter.sha256}: the file is not the one the manifest was written for`);
  return decodeAdapter(buf, spec.adapter.inputDimension, spec.dimension, `${where}: conversational adapter file ${loaded.conversationalAdapterPath}`);
}

/** rows × inputDimension features → rows × dimension outputs (x · W + b), not normalised. */
export function applyAdapter(a: Adapter, features: Float32Array, rows: number): Float32Array {
  if (features.length !== rows * a.inputDimension) throw new Error(`adapter: ${features.length} features are not ${rows} rows of ${a.inputDimension}`);
  if (rows === 0) return new Float32Array(0);
  const out = matmul(features, a.weight, rows, a.dimension, a.inputDimension);
  for (let r = 0; r < rows; r++) for (let j = 0; j < a.dimension; j++) out[r * a.dimension + j] += a.bias[j];
  return out;
}

/** L2-normalise each row in place (a zero row stays zero). */
export function normalizeRows(v: Float32Array, dimension: number): Float32Array {
  for (let r = 0; r < v.length / dimension; r++) {
    let s = 0;
    for (let j = 0; j < dimension; j++) s += v[r * dimension + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dimension; j++) v[r * dimension + j] *= inv;
  }
  return v;
}
