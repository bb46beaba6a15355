// What the encode stage turns documents into: rows of vectors, each owned by one document.
// Dense indexes store a vector per window; ColBERT indexes a vector per token. The stage,
// its checkpoints and slices are the same for both.
import type { Doc } from '../corpus/index.ts';
import type { Encoder, TokenEncoder } from '../encoders/index.ts';
import type { PhraseEncoder } from '../phrase/model/index.ts';
import { packPhraseRows, phraseRowWidth } from './phrase-rows.ts';

export interface RowEncoder {
  readonly dimension: number;
  /** The model's manifest hash: rows from another model are not resumed. */
  readonly manifestHash: string;
  /** What a row is: part of the resume key as well. */
  readonly rows: 'windows' | 'tokens' | 'phrase-tokens';
  /** The documents' rows in order, and how many rows each document has. */
  encode(docs: Doc[]): Promise<{ vectors: Float32Array; counts: number[] }>;
}

/** One sentence vector per document window (dense retrieval). */
export function windowRows(encoder: Encoder): RowEncoder {
  return {
    dimension: encoder.dimension,
    manifestHash: encoder.manifestHash,
    rows: 'windows',
    async encode(docs) {
      const windows = docs.map((doc) => encoder.documentWindows(doc));
      const flat = windows.flat();
      return { vectors: flat.length > 0 ? await encoder.encodeWindows(flat) : new Float32Array(0), counts: windows.map((w) => w.length) };
    },
  };
}

/** One projected, normalised vector per document token (late interaction). */
export function tokenRows(encoder: TokenEncoder): RowEncoder {
  return {
    dimension: encoder.dimension,
    manifestHash: encoder.manifestHash,
    rows: 'tokens',
    async encode(docs) {
      const matrices = await encoder.encodeDocumentTokens(docs);
      const vectors = new Float32Array(matrices.reduce((n, m) => n + m.rows * m.dim, 0));
      let at = 0;
      for (const m of matrices) {
        vectors.set(m.data.subarray(0, m.rows * m.dim), at);
        at += m.rows * m.dim;
      }
      return { vectors, counts: matrices.map((m) => m.rows) };
    },
  };
}

/** One row per passage token: its phrase start and end vectors, offsets and flags, and its start likelihood when the model has a filter (phrase-rows.ts). */
export function phraseRows(encoder: PhraseEncoder): RowEncoder {
  const d = encoder.dimension;
  const filter = encoder.filter !== undefined;
  return {
    dimension: phraseRowWidth(d, filter),
    manifestHash: encoder.manifestHash,
    rows: 'phrase-tokens',
    async encode(docs) {
      // The passage text alone: phrases are spans of it (the title is not part of the evidence text).
      const passages = await encoder.encodePassages(docs.map((doc) => doc.text));
      const packed = passages.map((p) => packPhraseRows(p, d, filter));
      const vectors = new Float32Array(packed.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of packed) {
        vectors.set(p, at);
        at += p.length;
      }
      return { vectors, counts: passages.map((p) => p.tokens) };
    },
  };
}

/** The rows an encoder makes: phrase rows, token vectors for a token encoder, window vectors for a sentence one. */
export function rowsOf(encoder: Encoder | TokenEncoder | PhraseEncoder): RowEncoder {
  if ('encodePassages' in encoder) return phraseRows(encoder);
  return 'encodeDocumentTokens' in encoder ? tokenRows(encoder) : windowRows(encoder);
}
