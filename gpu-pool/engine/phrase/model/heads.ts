// The phrase heads file: four inputDimension × dimension float32 matrices (little-endian,
// row-major, token row vector × matrix) in a row: start, end, query start, query end.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { LoadedManifest } from '../../encoders/index.ts';

export interface PhraseHeads {
  /** The token model's feature dimension (H). */
  inputDimension: number;
  /** Start / end vector dimension (d). */
  dimension: number;
  start: Float32Array;
  end: Float32Array;
  queryStart: Float32Array;
  queryEnd: Float32Array;
}

export const HEAD_NAMES = ['start', 'end', 'queryStart', 'queryEnd'] as const;

/** The model is a token model without (usable) phrase heads. */
export class NotAPhraseModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAPhraseModelError';
  }
}

/** The file's bytes (little-endian on every host). */
export function encodePhraseHeads(h: PhraseHeads): Buffer {
  const n = h.inputDimension * h.dimension;
  const buf = Buffer.alloc(4 * n * HEAD_NAMES.length);
  HEAD_NAMES.forEach((name, m) => {
    const w = h[name];
    if (w.length !== n) throw new Error(`phrase heads: ${name} has ${w.length} weights, expected ${h.inputDimension} × ${h.dimension}`);
    for (let i = 0; i < n; i++) buf.writeFloatLE(w[i], 4 * (m * n + i));
  });
  return buf;
}

export function decodePhraseHeads(buf: Buffer, inputDimension: number, dimension: number, where: string): PhraseHeads {
  const n = inputDimension * dimension;
  if (buf.length !== 4 * n * HEAD_NAMES.length)
    throw new Error(`${where}: ${buf.length} bytes; four ${inputDimension} × ${dimension} float32 matrices are ${4 * n * HEAD_NAMES.length} bytes`);
  const m = (k: number) => {
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = buf.readFloatLE(4 * (k * n + i));
    return w;
  };
  return { inputDimension, dimension, start: m(0), end: m(1), queryStart: m(2), queryEnd: m(3) };
}

/** The manifest's heads, checked against its sha256 and size. */
export function readPhraseHeads(loaded: LoadedManifest): PhraseHeads {
  const spec = loaded.manifest.phrase;
  const where = loaded.manifestPath ?? `model ${loaded.manifest.id}`;
  if (!spec || !loaded.phraseHeadsPath)
    throw new NotAPhraseModelError(
      `${where}: model ${loaded.manifest.id} has no phrase block: phrase retrieval needs a model made by \`edgesearch phrase train\` (or a manifest with phrase.heads)`,
    );
  const buf = readFileSync(loaded.phraseHeadsPath);
  const sha = createHash('sha256').update(buf).digest('hex');
  if (sha !== spec.heads.sha256.toLowerCase())
    throw new Error(`${where}: phrase heads file ${loaded.phraseHeadsPath} has sha256 ${sha} but the manifest says ${spec.heads.sha256}: the file is not the one the manifest was written for`);
  return decodePhraseHeads(buf, spec.heads.inputDimension, spec.dimension, `${where}: phrase heads file ${loaded.phraseHeadsPath}`);
}
