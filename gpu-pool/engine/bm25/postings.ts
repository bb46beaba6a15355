/**
 * The whole of a BM25 index as flat typed arrays (no JS object per posting), shared by the
 * builder, the searcher and the file format.
 *
 * Posting list of term t: entries offsets[t] .. offsets[t+1]-1 of `docs` (ascending ordinals)
 * and `tfs` (term frequency in that document, saturated at 65535 — far past where BM25's tf
 * part stops moving).
 */
export interface Postings {
  /** Analyzed terms in ascending UTF-16 code unit order; the position is the term id. */
  terms: string[];
  offsets: Uint32Array;
  docs: Uint32Array;
  tfs: Uint16Array;
  /** Analyzed tokens per document (after stop words), exact — Lucene keeps a lossy byte instead. */
  docLengths: Uint32Array;
}

export const MAX_TF = 0xffff;
