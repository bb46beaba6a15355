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

/** A tokenizer model (Unigram, WordPiece) turns one pre-tokenized word into ids. */
export interface TokenizerModel {
  readonly type: 'Unigram' | 'WordPiece';
  readonly vocabSize: number;
  readonly unkId: number;
  tokenize(word: string, out: number[]): void;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}

export interface Tokenizer {
  readonly type: 'Unigram' | 'WordPiece';
  readonly vocabSize: number;
  readonly unkId: number;
  /** Id to pad with: `padding.pad_id` from tokenizer.json, else `[PAD]`/`<pad>`, else 0. Padding is masked out anyway. */
  readonly padId: number;
  /** Token ids of `text` without special tokens (no [CLS]/[SEP]); never throws on odd input. */
  encode(text: string): Int32Array;
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
