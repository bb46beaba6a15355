// Shapes of the parts of a Hugging Face `tokenizer.json` that this package reads, and the
// tokenizer interface the encoders use. Only what we implement is typed; the rest is `unknown`.

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

export interface TokenizerJson {
  version?: string;
  added_tokens?: AddedTokenJson[];
  normalizer?: ComponentJson | null;
  pre_tokenizer?: ComponentJson | null;
  post_processor?: ComponentJson | null;
  model: ComponentJson;
  [key: string]: unknown;
}

/** Any normalizer / pre-tokenizer / post-processor / model: a `type` plus its settings. */
export interface ComponentJson {
  type?: string;
  [key: string]: unknown;
}

export type ModelType = 'Unigram' | 'WordPiece' | 'BPE';

/** A tokenizer model (Unigram, WordPiece, BPE) turns one pre-tokenized word into ids. */
export interface TokenizerModel {
  readonly type: ModelType;
  readonly vocabSize: number;
  /** -1 when the model has no unknown token (byte-level BPE). */
  readonly unkId: number;
  tokenize(word: string, out: number[]): void;
  /** Same ids as `tokenize`, plus each token's [start, end) in UTF-16 units of `word`, flat. */
  tokenizeWithOffsets(word: string, out: number[], offsets: number[]): void;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}

/** Token ids with, per token, the [start, end) range of the ORIGINAL text it covers. */
export interface EncodingWithOffsets {
  ids: Int32Array;
  /** Flat [start0, end0, start1, end1, ...]: UTF-16 code unit offsets (JS string indices) into the
   *  un-normalized input, as Hugging Face tokenizers defines them (a token covering part of a
   *  character, e.g. one byte of an emoji, spans the whole character). */
  offsets: Int32Array;
}

export interface Tokenizer {
  readonly type: ModelType;
  readonly vocabSize: number;
  readonly unkId: number;
  /** Id to pad with: `padding.pad_id` from tokenizer.json, else `[PAD]`/`<pad>`, else 0. Padding is masked out anyway. */
  readonly padId: number;
  /** Token ids of `text` without special tokens (no [CLS]/[SEP]); never throws on odd input. */
  encode(text: string): Int32Array;
  /** The ids of `encode(text)` and where each token came from in `text` (slower: tracks alignments). */
  encodeWithOffsets(text: string): EncodingWithOffsets;
  /** Special tokens the post-processor puts around a single sequence (empty for use-lite). */
  readonly specials: { readonly prefix: Int32Array; readonly suffix: Int32Array };
  /** `prefix + ids + suffix` (the post-processor's single-sequence template). */
  addSpecialTokens(ids: ArrayLike<number>): Int32Array;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}

export class UnsupportedTokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTokenizerError';
  }
}
