// What the encode stage turns documents into: rows of vectors, each owned by one document.
// Dense indexes store a vector per window; ColBERT indexes a vector per token. The stage,
// its checkpoints and slices are the same for both.
import type { Doc } from '../corpus/index.ts';
import type { Encoder, TokenEncoder } from '../encoders/index.ts';

export interface RowEncoder {
  readonly dimension: number;
  /** The model's manifest hash: rows from another model are not resumed. */
  readonly manifestHash: string;
  /** What a row is ('windows' or 'tokens'): part of the resume key as well. */
  readonly rows: 'windows' | 'tokens';
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

/** The rows an encoder makes: token vectors for a token encoder, window vectors for a sentence one. */
export function rowsOf(encoder: Encoder | TokenEncoder): RowEncoder {
  return 'encodeDocumentTokens' in encoder ? tokenRows(encoder) : windowRows(encoder);
}
