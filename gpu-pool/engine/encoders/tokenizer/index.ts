// Public surface of the tokenizer: load a Hugging Face tokenizer.json (Unigram, WordPiece or BPE).
import { readFileSync } from 'node:fs';
import { buildAddedTokenSplitter } from './added-tokens.ts';
import { alignedOf } from './aligned.ts';
import { BpeModel } from './bpe.ts';
import { buildAlignedNormalizer, buildNormalizer } from './normalizer.ts';
import { buildOffsetTrims, buildSpecials } from './post-processor.ts';
import { buildPreTokenizer } from './pre-tokenizer.ts';
import { type Tokenizer, type TokenizerJson, type TokenizerModel, UnsupportedTokenizerError } from './types.ts';
import { UnigramModel } from './unigram.ts';
import { WordPieceModel } from './wordpiece.ts';

export type { EncodingWithOffsets, Tokenizer, TokenizerJson } from './types.ts';
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
    case 'BPE':
      return new BpeModel(model);
    default:
      throw new UnsupportedTokenizerError(
        `unsupported tokenizer model type ${JSON.stringify(type)} (supported: Unigram, WordPiece, BPE)`,
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
  const normalizeAligned = buildAlignedNormalizer(json.normalizer);
  const preTokenizer = buildPreTokenizer(json.pre_tokenizer);
  const preTokenize = preTokenizer.words;
  const split = buildAddedTokenSplitter(json.added_tokens);
  const tpl = buildSpecials(json.post_processor);
  const trims = buildOffsetTrims(json.post_processor);
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
        for (const word of preTokenize([normalize(seg.text)], seg.start === 0)) model.tokenize(word, ids);
      }
      return Int32Array.from(ids);
    },
    encodeWithOffsets(text: string) {
      const ids: number[] = [];
      const offs: number[] = [];
      const local: number[] = [];
      // HF's token string for an added token is the matched text, swallowed whitespace included.
      const addedText = new Map<number, string>();
      for (const seg of split(text)) {
        if ('id' in seg) {
          addedText.set(ids.length, text.slice(seg.start, seg.end));
          ids.push(seg.id);
          offs.push(seg.start, seg.end);
          continue;
        }
        for (const word of preTokenizer.aligned([normalizeAligned(alignedOf(seg.text, seg.start))])) {
          local.length = 0;
          model.tokenizeWithOffsets(word.text, ids, local);
          // A token covering word[a, b) spans original[start of a, end of b-1] (HF expand_alignments).
          for (let k = 0; k < local.length; k += 2) offs.push(word.start[local[k]], word.end[local[k + 1] - 1]);
        }
      }
      const offsets = Int32Array.from(offs);
      if (trims.length > 0) {
        const tokens = ids.map((id, i) => addedText.get(i) ?? model.idToToken(id));
        for (const trim of trims) trim(tokens, offsets);
      }
      return { ids: Int32Array.from(ids), offsets };
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
