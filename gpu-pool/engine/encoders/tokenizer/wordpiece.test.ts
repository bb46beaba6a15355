import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTokenizer, loadTokenizer, type TokenizerJson, UnsupportedTokenizerError } from './index.ts';

// A tiny BERT-style tokenizer.json, written the way `tokenizers` saves bert-base-uncased.
const words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'un', '##aff', '##able',
  'cafe', '.', ',', '!', '中', '国', 'run', '##ning', 'a', '##b', 'x', '$', '5'];
const vocab = Object.fromEntries(words.map((w, i) => [w, i]));
const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

const bertJson: TokenizerJson = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [special(0, '[PAD]'), special(1, '[UNK]'), special(2, '[CLS]'), special(3, '[SEP]'), special(4, '[MASK]')],
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
    },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
};

const tmp = mkdtempSync(join(tmpdir(), 'es-wordpiece-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const path = join(tmp, 'tokenizer.json');
writeFileSync(path, JSON.stringify(bertJson));
const tok = loadTokenizer(path);
const toks = (text: string) => Array.from(tok.encode(text), (id) => tok.idToToken(id));

describe('WordPiece tokenizer (BERT)', () => {
  it('lower-cases, splits punctuation, greedy longest match with ## pieces', () => {
    expect(tok.type).toBe('WordPiece');
    expect(toks('The cat sat on the mat.')).toEqual(['the', 'cat', 'sat', 'on', 'the', 'mat', '.']);
    expect(toks('Unaffable running!')).toEqual(['un', '##aff', '##able', 'run', '##ning', '!']);
    expect(toks('ab')).toEqual(['a', '##b']);
  });

  it('strips accents, cleans control characters, spaces CJK characters', () => {
    expect(toks('Café')).toEqual(['cafe']);
    expect(toks('cat\u0000\u200bsat')).toEqual(['[UNK]']); // controls removed: one word, "catsat", not in the vocab
    expect(toks('cat\tsat\nmat')).toEqual(['cat', 'sat', 'mat']);
    expect(toks('中国')).toEqual(['中', '国']);
    expect(toks('$5')).toEqual(['$', '5']); // $ is BERT punctuation (ASCII), split off
  });

  it('a word it cannot cover is one [UNK]; so is a word over max_input_chars_per_word', () => {
    expect(toks('cat zebra')).toEqual(['cat', '[UNK]']);
    expect(toks('unaffablex')).toEqual(['[UNK]']);
    const long = createTokenizer({ ...bertJson, model: { ...bertJson.model, max_input_chars_per_word: 3 } });
    expect(Array.from(long.encode('cat cafe'))).toEqual([6, 1]);
  });

  it('adds [CLS] … [SEP] per the post_processor; matches special tokens in the text', () => {
    expect(Array.from(tok.specials.prefix)).toEqual([2]);
    expect(Array.from(tok.specials.suffix)).toEqual([3]);
    expect(Array.from(tok.addSpecialTokens(tok.encode('the cat')))).toEqual([2, 5, 6, 3]);
    expect(toks('the [MASK] sat')).toEqual(['the', '[MASK]', 'sat']);
    expect(tok.padId).toBe(0);
    const bp = createTokenizer({ ...bertJson, post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] } });
    expect(Array.from(bp.addSpecialTokens([9]))).toEqual([2, 9, 3]);
  });

  it('gives a clear error for unsupported tokenizers', () => {
    const wordLevel = { ...bertJson, model: { type: 'WordLevel', vocab: {}, unk_token: '[UNK]' } };
    writeFileSync(join(tmp, 'wordlevel.json'), JSON.stringify(wordLevel));
    expect(() => loadTokenizer(join(tmp, 'wordlevel.json'))).toThrow(UnsupportedTokenizerError);
    expect(() => loadTokenizer(join(tmp, 'wordlevel.json'))).toThrow(
      /wordlevel\.json: unsupported tokenizer model type "WordLevel" \(supported: Unigram, WordPiece, BPE\)/,
    );
    expect(() => createTokenizer({ ...bertJson, pre_tokenizer: { type: 'CharDelimiterSplit', delimiter: ' ' } })).toThrow(
      /pre_tokenizer type "CharDelimiterSplit"/,
    );
    expect(() => createTokenizer({ ...bertJson, normalizer: { type: 'Nmt' } })).toThrow(/normalizer type "Nmt"/);
    // Oniguruma-only syntax that JS cannot compile is refused, not silently misread.
    expect(() => createTokenizer({ ...bertJson, pre_tokenizer: { type: 'Split', pattern: { Regex: '(?i:ab)' }, behavior: 'Isolated' } })).toThrow(
      UnsupportedTokenizerError,
    );
  });
});

describe('Unigram with a Metaspace pre-tokenizer (XLM-R / T5 style)', () => {
  it('splits on ▁ and prepends it', () => {
    const t = createTokenizer({
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      post_processor: null,
      model: { type: 'Unigram', unk_id: 0, vocab: [['<unk>', 0], ['▁a', -1], ['▁ab', -1.5], ['b', -2], ['▁', -3], ['c', -2]] },
    });
    expect(Array.from(t.encode('ab abc'))).toEqual([2, 2, 5]);
    expect(Array.from(t.encode('a  b'))).toEqual([1, 4, 4, 3]); // "▁a" "▁" "▁b"→ ▁ + b
  });
});
