// Parity of our tokenizer with Hugging Face's, on real texts (SciFact sentences, SQuAD questions and
// sentences, every SQuAD sentence that Unicode normalization changes) plus hand-picked edge cases,
// for each model type we support: Unigram (the shipped use-lite tokenizer.json, and a Metaspace
// variant), WordPiece and BPE (tokenizer.json files built here from the same corpora).
//
// - ids: against Tokenizers.js (`@huggingface/tokenizers`, pure JS, a dev dependency), exactly.
// - offsets: Tokenizers.js reports none. They are checked (1) against the Rust `tokenizers` package
//   (HF's reference implementation, native) when it can be loaded: `npm i -D tokenizers`, or set
//   EDGESEARCH_HF_TOKENIZERS to its folder; and (2) always, by reading each token back from the
//   original text: an ASCII slice must spell the token.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Tokenizer as TokenizersJs } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { SHARED_DIR, USE_LITE_DIR } from '../../../../test/fixtures.ts';
import { createTokenizer, type Tokenizer, type TokenizerJson } from './index.ts';
import {
  buildByteLevelBpeJson,
  buildSentencePieceBpeJson,
  buildWordPieceJson,
  EDGE_CASES,
  loadParityTexts,
} from './parity-fixtures.ts';
import { BYTE_TO_CHAR } from './pre-tokenizer.ts';

const T = loadParityTexts(SHARED_DIR, { scifactDocs: 300, questions: 2500, paragraphs: 300 });
// One pool of real texts, interleaved by source; each tokenizer takes its own slice of it, so each
// model type sees a few thousand different texts while the test stays quick.
const pool: string[] = [];
for (let i = 0; pool.length < 9000 && i < Math.max(T.scifact.length, T.squadQuestions.length, T.squadSentences.length); i++) {
  for (const src of [T.scifact, T.squadQuestions, T.squadSentences]) if (i < src.length) pool.push(src[i]);
}
const always = [...EDGE_CASES, ...T.squadUnicode];

const useLite = JSON.parse(readFileSync(join(USE_LITE_DIR, 'tokenizer.json'), 'utf8')) as TokenizerJson;
const train = [...T.scifact, ...T.squadSentences];
const wordPiece = buildWordPieceJson(train, { lowercase: true, size: 4000 });

// Inputs on which Tokenizers.js differs from HF tokenizers (Rust), checked below and in the
// last describe: astral CJK, JS \s vs White_Space, JS's context-sensitive final sigma.
const CJK_ASTRAL = /[\u{20000}-\u{2FA1F}]/u;
const JS_WS_DIFF = /[\ufeff\u0085]/u;
const JS_SIGMA = /\u03a3/u;

/** Tokenizers.js breaks exact Viterbi ties differently from HF (e.g. "▁2.666" with Metaspace: HF
 *  and we give ▁2. 66 6, it gives ▁2. 6 66). Excused only if both cover the same text with the
 *  same total score, so a worse segmentation of ours still fails. */
function unigramTie(json: TokenizerJson) {
  const vocab = (json.model as { vocab: [string, number][] }).vocab;
  const score = (ids: ArrayLike<number>) => Array.from(ids).reduce((t, id) => t + vocab[id][1], 0);
  const text = (ids: ArrayLike<number>) => Array.from(ids, (id) => vocab[id][0]).join('');
  return (_: string, ours: ArrayLike<number>, js: number[]) =>
    text(ours) === text(js) && Math.abs(score(ours) - score(js)) < 1e-9 * Math.abs(score(ours));
}

interface Case {
  name: string;
  json: TokenizerJson;
  texts: string[];
  /** Tokenizers.js is not compared (it differs from HF on these components, see below). */
  noJs?: boolean;
  /** Where Tokenizers.js is known to differ from HF (Rust) and from us, by its bug. */
  jsBug?: (text: string, ours: ArrayLike<number>, js: number[]) => boolean;
  /** The token as text, for reading it back from an ASCII slice of the original. */
  surface: (token: string) => string;
  /** The original slice as the token spells it. */
  fold: (slice: string) => string;
}

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
/** A byte-level token as text; a token with non-ASCII bytes comes back as a marker (not compared). */
const bytesToText = (tok: string) => {
  let s = '';
  for (const c of tok) {
    const b = CHAR_TO_BYTE.get(c);
    if (b === undefined || b >= 0x80) return '\u0080';
    s += String.fromCharCode(b);
  }
  return s;
};
const noMarker = (p: string) => p.replace(/^##/, '');
const spaced = (s: string) => s.replaceAll(' ', '\u2581');

let at = 0;
const slice = (n: number) => pool.slice(at, (at += n));

const cases: Case[] = [
  // The shipped tokenizer: NFKC + Replace + Prepend normalizers, no pre-tokenizer, Unigram.
  { name: 'Unigram use-lite', json: useLite, texts: slice(1200), jsBug: unigramTie(useLite), surface: (t) => t, fold: spaced },
  {
    name: 'Unigram + Metaspace (prepend first)',
    json: { ...useLite, normalizer: { type: 'NFKC' }, pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: true } },
    texts: slice(600),
    jsBug: unigramTie(useLite),
    surface: (t) => t,
    fold: spaced,
  },
  {
    name: 'WordPiece BERT uncased',
    json: wordPiece,
    texts: slice(900),
    // Tokenizers.js walks UTF-16 units (astral ideographs get no spaces) and lowercases per string.
    jsBug: (t) => CJK_ASTRAL.test(t) || JS_SIGMA.test(t),
    surface: noMarker,
    fold: (s) => s.toLowerCase(),
  },
  {
    name: 'WordPiece BERT cased',
    json: buildWordPieceJson(train, { lowercase: false, size: 4000 }),
    texts: slice(500),
    jsBug: (t) => CJK_ASTRAL.test(t),
    surface: noMarker,
    fold: (s) => s,
  },
  {
    name: 'WordPiece, NFD + StripAccents + Lowercase + Strip + Replace(regex)',
    json: {
      ...wordPiece,
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'NFD' },
          { type: 'StripAccents' },
          { type: 'Lowercase' },
          { type: 'Strip', strip_left: true, strip_right: true },
          { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        ],
      },
    },
    texts: slice(500),
    jsBug: (t) => JS_WS_DIFF.test(t) || JS_SIGMA.test(t), // JS \s: U+FEFF is whitespace, U+0085 is not; HF: the reverse
    surface: noMarker,
    fold: (s) => s.toLowerCase(),
  },
  {
    name: 'WordPiece, NFKC + Lowercase, WhitespaceSplit',
    json: { ...wordPiece, normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] }, pre_tokenizer: { type: 'WhitespaceSplit' } },
    texts: slice(400),
    jsBug: (t) => JS_WS_DIFF.test(t) || JS_SIGMA.test(t),
    surface: noMarker,
    fold: (s) => s.toLowerCase(),
  },
  {
    // Tokenizers.js differs from HF on all three (ASCII-only \w, runs of punctuation kept
    // together, ASCII-only digits): checked against Rust and by reading tokens back only.
    name: 'WordPiece, Whitespace + Digits + Punctuation',
    json: {
      ...wordPiece,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [{ type: 'Whitespace' }, { type: 'Digits', individual_digits: true }, { type: 'Punctuation', behavior: 'Isolated' }],
      },
    },
    texts: slice(400),
    noJs: true,
    surface: noMarker,
    fold: (s) => s.toLowerCase(),
  },
  {
    name: 'BPE byte-level, RoBERTa (prefix space, trimmed offsets, <mask> lstrip)',
    json: buildByteLevelBpeJson(train, { merges: 4000, addPrefixSpace: true, post: 'roberta', trimOffsets: true }),
    texts: slice(800),
    surface: bytesToText,
    fold: (s) => s,
  },
  {
    name: 'BPE byte-level, GPT-2 (no prefix space, ByteLevel post-processor)',
    json: buildByteLevelBpeJson(train, { merges: 4000, addPrefixSpace: false, post: 'bytelevel', trimOffsets: true }),
    texts: slice(600),
    surface: bytesToText,
    fold: (s) => s,
  },
  {
    name: 'BPE SentencePiece-style (▁, byte_fallback, fuse_unk)',
    json: buildSentencePieceBpeJson(train, { merges: 4000 }),
    texts: slice(700),
    surface: (t) => t.replaceAll('\u2581', ' '),
    fold: (s) => s,
  },
];

type RustTokenizer = {
  fromString(json: string): {
    encode(text: string, pair: null, opts: { addSpecialTokens: boolean }): Promise<{ getIds(): number[]; getOffsets(): number[][] }>;
  };
};

function loadRust(): RustTokenizer | null {
  try {
    const mod = createRequire(import.meta.url)(process.env.EDGESEARCH_HF_TOKENIZERS ?? 'tokenizers') as { Tokenizer?: RustTokenizer };
    return mod.Tokenizer ?? null;
  } catch {
    return null;
  }
}
const Rust = loadRust();

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((x, i) => x === b[i]);
const ASCII = /^[\x20-\x7e]*$/;

/** Rust reports char (code point) offsets; we report UTF-16 units. */
function toUtf16(text: string, offsets: number[][]): number[] {
  const unitAt = [0];
  for (const ch of text) unitAt.push(unitAt[unitAt.length - 1] + ch.length);
  return offsets.flatMap(([a, b]) => [unitAt[a], unitAt[b]]);
}

describe.each(cases)('$name', (c) => {
  const ours: Tokenizer = createTokenizer(c.json);
  const texts = [...always, ...c.texts];

  it(`has ${c.texts.length} real texts plus ${always.length} edge and Unicode cases`, () => {
    expect(c.texts.length).toBeGreaterThanOrEqual(400);
    expect(T.squadUnicode.length).toBeGreaterThan(100);
  });

  it('encodeWithOffsets gives the ids of encode, and offsets that read back as the tokens', () => {
    // Failures are collected (an expect per token would cost more than the tokenizing).
    const bad: string[] = [];
    let checked = 0;
    for (const text of texts) {
      const fast = ours.encode(text);
      const { ids, offsets } = ours.encodeWithOffsets(text);
      if (!same(ids, fast) || offsets.length !== 2 * ids.length) {
        bad.push(`${JSON.stringify(text)}: ids differ from encode()`);
        continue;
      }
      let prevStart = 0;
      for (let i = 0; i < ids.length; i++) {
        const s = offsets[2 * i];
        const e = offsets[2 * i + 1];
        if (!(s >= prevStart && s <= e && e <= text.length)) bad.push(`${JSON.stringify(text)} token ${i}: [${s}, ${e}) out of order`);
        prevStart = s;
        const token = ours.idToToken(ids[i])!;
        const piece = text.slice(s, e);
        if (ids[i] === ours.unkId || !ASCII.test(piece) || piece.length === 0 || /^(\[\w+\]|<\w+>)$/.test(token)) continue;
        // A prepended ▁ / prefix space aligns to the first char and trimmed spaces leave the range,
        // so leading spaces are not compared (nor a token that is only such a space). Non-ASCII
        // tokens are left to the Rust comparison (HF aligns a composed é to its e, for one).
        const spelled = c.surface(token).replace(/^[ \u2581]+/, '');
        if (spelled.length === 0 || !ASCII.test(spelled)) continue;
        const read = c.fold(piece).replace(/^[ \u2581]+/, '');
        if (spelled !== read) bad.push(`${JSON.stringify(text)} token ${i} ${JSON.stringify(token)}: [${s}, ${e}) reads ${JSON.stringify(piece)}`);
        checked++;
      }
    }
    expect(bad.slice(0, 10)).toEqual([]);
    expect(checked).toBeGreaterThan(texts.length);
  });

  it.skipIf(c.noJs)('gives the same ids as Tokenizers.js', () => {
    const ref = new TokenizersJs(c.json, {});
    const mismatches: string[] = [];
    for (const text of texts) {
      const expected = ref.encode(text, { add_special_tokens: false }).ids;
      const got = ours.encode(text);
      if (!same(got, expected) && !c.jsBug?.(text, got, expected)) mismatches.push(text);
    }
    expect(mismatches).toEqual([]);
  });

  it.skipIf(!Rust)('gives the ids and character offsets of HF tokenizers (Rust)', async () => {
    const ref = Rust!.fromString(JSON.stringify(c.json));
    const bad: string[] = [];
    for (const text of texts) {
      const e = await ref.encode(text, null, { addSpecialTokens: false });
      const got = ours.encodeWithOffsets(text);
      if (!same(got.ids, e.getIds()) || !same(got.offsets, toUtf16(text, e.getOffsets()))) bad.push(text);
    }
    expect(bad).toEqual([]);
  });
});

describe('where Tokenizers.js differs from HF tokenizers, we follow HF', () => {
  const bert = createTokenizer(wordPiece);
  it('BertNormalizer spaces astral CJK ideographs (extension B) like the others', () => {
    expect(Array.from(bert.encode('\u{20000}\u{20001}'))).toEqual(Array.from(bert.encode('\u{20000} \u{20001}')));
    expect(Array.from(bert.encode('\u{20000}\u{20001}'))).toHaveLength(2);
  });

  it('whitespace is Unicode White_Space: U+0085 splits, U+FEFF does not', () => {
    const ws = createTokenizer({ ...wordPiece, normalizer: { type: 'Lowercase' }, pre_tokenizer: { type: 'WhitespaceSplit' } });
    expect(Array.from(ws.encode('the\u0085cat'))).toEqual(Array.from(ws.encode('the cat')));
    expect(Array.from(ws.encode('the\ufeffcat'))).toHaveLength(1); // one word, unknown
  });

  it('Lowercase maps Σ to σ everywhere (JS toLowerCase gives a word-final ς)', () => {
    const lower = createTokenizer({ ...useLite, normalizer: { type: 'Lowercase' } });
    expect(Array.from(lower.encode('ΟΔΟΣ'))).toEqual(Array.from(lower.encode('οδοσ')));
  });
});

describe('offsets', () => {
  const uni = createTokenizer(useLite);
  it('are UTF-16 ranges of the original text, through NFKC and the prepended ▁', () => {
    const text = 'ﬁne 🙂 Cafe\u0301';
    const { ids, offsets } = uni.encodeWithOffsets(text);
    const spans = Array.from(ids, (id, i) => [uni.idToToken(id), text.slice(offsets[2 * i], offsets[2 * i + 1])]);
    expect(spans[0]).toEqual(['\u2581fine', 'ﬁne']); // the ligature is one char of the original, "fi" after NFKC
    expect(spans).toContainEqual([uni.idToToken(uni.unkId), '🙂']); // an astral char is 2 units
    // HF aligns a composed char to its base letter only: é (e + U+0301) ends at the e.
    expect(offsets[offsets.length - 1]).toBe(text.length - 1);
  });

  it('of a byte-level token inside a character span the whole character', () => {
    const bpe = createTokenizer(cases.find((c) => c.name.startsWith('BPE byte-level, GPT-2'))!.json);
    const text = 'x 🙂';
    const { ids, offsets } = bpe.encodeWithOffsets(text);
    // " 🙂" is 5 bytes (Ġ + 4); whatever the merges, every token that has a part of the emoji
    // spans exactly the emoji (UTF-16 [2, 4)), the space trimmed off by trim_offsets.
    const emoji = Array.from(ids, (_, i) => [offsets[2 * i], offsets[2 * i + 1]]).filter(([, e]) => e > 2);
    expect(emoji.length).toBeGreaterThan(1);
    for (const span of emoji) expect(span).toEqual([2, 4]);
  });
});
