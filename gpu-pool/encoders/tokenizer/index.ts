// Public surface of the tokenizer: load a Hugging Face tokenizer.json (Unigram or WordPiece).
import { readFileSync } from 'node:fs';
import { buildAddedTokenSplitter } from './added-tokens.ts';
import { buildNormalizer } from './normalizer.ts';
import { buildSpecials } from './post-processor.ts';
import { buildPreTokenizer } from './pre-tokenizer.ts';
import { type Tokenizer, type TokenizerJson, type TokenizerModel, UnsupportedTokenizerError } from './types.ts';
import { UnigramModel } from './unigram.ts';
import { WordPieceModel } from './wordpiece.ts';

export type { Tokenizer, TokenizerJson } from './types.ts';
export { UnsupportedTokenizerError } from './types.ts';

export interface TokenizerOptions {
  /** Told about approximations (e.g. the Precompiled normalizer). */
  warn?: (msg: string) => void;
}

function buildModel(json: TokenizerJson): TokenizerModel {
  const model = json.model;
  const type = model?.type ?? (Array.isArray(model?.vocab) ? 'Unigram' : undefined);
  switch (type) {
    case 'Unigram':
      return new UnigramModel(model);
    case 'WordPiece':
      return new WordPieceModel(model);
    default:
      throw new UnsupportedTokenizerError(
        `unsupported tokenizer model type ${JSON.stringify(type)} (supported: Unigram, WordPiece)`,
      );
  }
}

function findPadId(json: TokenizerJson, model: TokenizerModel): number {
  const padding = json.padding as { pad_id?: number } | null | undefined;
  if (padding && typeof padding.pad_id === 'number') return padding.pad_id;
  for (const tok of ['[PAD]', '<pad>']) {
    const id = model.tokenToId(tok);
    if (id !== undefined) return id;
  }
  return 0;
}

export function createTokenizer(json: TokenizerJson, opts: TokenizerOptions = {}): Tokenizer {
  const model = buildModel(json);
  const normalize = buildNormalizer(json.normalizer, opts.warn);
  const preTokenize = buildPreTokenizer(json.pre_tokenizer);
  const split = buildAddedTokenSplitter(json.added_tokens);
  const tpl = buildSpecials(json.post_processor);
  const prefix = Int32Array.from(tpl.prefix);
  const suffix = Int32Array.from(tpl.suffix);
  return {
    type: model.type,
    vocabSize: model.vocabSize,
    unkId: model.unkId,
    padId: findPadId(json, model),
    specials: { prefix, suffix },
    encode(text: string): Int32Array {
      const ids: number[] = [];
      for (const seg of split(text)) {
        if ('id' in seg) {
          ids.push(seg.id);
          continue;
        }
        for (const word of preTokenize([normalize(seg.text)])) model.tokenize(word, ids);
      }
      return Int32Array.from(ids);
    },
    addSpecialTokens(ids: ArrayLike<number>): Int32Array {
      const out = new Int32Array(prefix.length + ids.length + suffix.length);
      out.set(prefix, 0);
      out.set(ids, prefix.length);
      out.set(suffix, prefix.length + ids.length);
      return out;
    },
    tokenToId: (t) => model.tokenToId(t),
    idToToken: (id) => model.idToToken(id),
  };
}

export function loadTokenizer(path: string, opts: TokenizerOptions = {}): Tokenizer {
  let json: TokenizerJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as TokenizerJson;
  } catch (err) {
    throw new Error(`cannot read tokenizer ${path}: ${(err as Error).message}`);
  }
  try {
    return createTokenizer(json, opts);
  } catch (err) {
    if (err instanceof UnsupportedTokenizerError) throw new UnsupportedTokenizerError(`${path}: ${err.message}`);
    throw err;
  }
}
