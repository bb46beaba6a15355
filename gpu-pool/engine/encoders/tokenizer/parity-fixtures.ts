// Test support for parity.test.ts: real texts from the shared corpora, and small tokenizer.json
// files built from them (WordPiece, byte-level BPE, SentencePiece-style BPE) in the formats
// Hugging Face writes. The vocabularies are derived deterministically from word counts, so they
// look like trained ones (frequent words whole, rare ones in pieces, some characters unknown)
// without a training run. Not used by the service.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BYTE_TO_CHAR } from './pre-tokenizer.ts';
import type { TokenizerJson } from './types.ts';

/** Hand-picked cases real corpora rarely have: accents decomposed or not, CJK, emoji (ZWJ, skin
 *  tones), every kind of whitespace, compatibility forms, final sigma, controls, marks that
 *  reorder under normalization, special-token strings. */
export const EDGE_CASES = [
  'Café résumé naïve Zürich Ångström Øre',
  'Cafe\u0301 re\u0301sume\u0301 decomposed, a\u0307\u0323b q\u0307\u0323x x\u0301\u0301y \u0301start',
  'ﬁne ｈｅｌｌｏ ½ ① ㍿ Ａｂｃ１２３ 𝒳𝓎 𝟘𝟙 ǅ ǈ Ǆ İstanbul',
  '中文字符 and 日本語のテキスト 한국어 텍스트 \u1100\u1161\u11a8 𠀀𠀁 ext-B',
  'emoji 🙂👍🏽 and 👨‍👩‍👧 family ✈️ flags 🇫🇷',
  'tabs\tand\nnewlines\r\n and  double  spaces\u00a0nbsp\u2003em\u3000ideo\u0085nel',
  '  leading and trailing  ',
  'ΟΔΟΣ ΣΙΣΥΦΟΣ Σ σ ς',
  'control\u0000\u0007chars\u200b\ufeffzero\ufffdreplacement',
  "don't can't I'm we'll they're $5.00 (50%) e-mail@x.org #tag ~/path_name",
  '\u0f71\u0f72\u0f74 tibetan \u0e33 thai \u0915\u093c\u093f hindi',
  '[CLS] the [MASK] sat [SEP] <mask> x a<mask>b',
  ' ',
  'a',
  '',
];

const sentences = (text: string) => text.split(/(?<=[.!?])\s+/).filter((s) => s.length > 0);

export interface ParityTexts {
  scifact: string[];
  squadQuestions: string[];
  squadSentences: string[];
  /** SQuAD sentences that Unicode normalization changes (NFKC differs, or NFD and NFC differ). */
  squadUnicode: string[];
}

/** Deterministic samples: the first documents / questions in file order. */
export function loadParityTexts(sharedDir: string, n: { scifactDocs: number; questions: number; paragraphs: number }): ParityTexts {
  const scifact: string[] = [];
  const corpus = readFileSync(join(sharedDir, 'data', 'scifact', 'beir', 'corpus.jsonl'), 'utf8').split('\n');
  for (const line of corpus.slice(0, n.scifactDocs)) {
    if (!line) continue;
    const d = JSON.parse(line) as { title: string; text: string };
    scifact.push(d.title, ...sentences(d.text));
  }
  const squad = JSON.parse(readFileSync(join(sharedDir, 'data', 'squad-v1.1-dev', 'dev-v1.1.json'), 'utf8')) as {
    data: { paragraphs: { context: string; qas: { question: string }[] }[] }[];
  };
  const squadQuestions: string[] = [];
  const squadSentences: string[] = [];
  const squadUnicode: string[] = [];
  let paragraphs = 0;
  for (const article of squad.data) {
    for (const p of article.paragraphs) {
      const inSample = paragraphs++ < n.paragraphs;
      for (const s of sentences(p.context)) {
        if (inSample) squadSentences.push(s);
        if (s.normalize('NFKC') !== s || s.normalize('NFD') !== s) squadUnicode.push(s);
      }
      for (const q of p.qas) if (squadQuestions.length < n.questions) squadQuestions.push(q.question);
    }
  }
  return { scifact, squadQuestions, squadSentences, squadUnicode };
}

function wordCounts(texts: string[], split: (t: string) => string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of texts) for (const w of split(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

const byCount = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);

function addedToken(id: number, content: string, extra: Partial<{ lstrip: boolean; rstrip: boolean }> = {}) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...extra };
}

/** BERT-style WordPiece: specials, characters seen at least twice (rarer ones are [UNK]), the most
 *  frequent words, and frequent word starts and `##` continuations. */
export function buildWordPieceJson(texts: string[], opts: { lowercase: boolean; size: number }): TokenizerJson {
  const fold = (s: string) => (opts.lowercase ? s.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '') : s);
  const words = wordCounts(texts, (t) => fold(t).match(/[\p{L}\p{N}\p{M}]+|[^\p{L}\p{N}\p{M}\s]/gu) ?? []);
  const vocab = new Map<string, number>();
  const add = (tok: string) => {
    if (!vocab.has(tok)) vocab.set(tok, vocab.size);
  };
  for (const s of ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']) add(s);
  const chars = new Map<string, number>();
  for (const [w, c] of words) for (const ch of w) chars.set(ch, (chars.get(ch) ?? 0) + c);
  for (const ch of byCount(chars)) {
    if ((chars.get(ch) ?? 0) < 2) continue;
    add(ch);
    add('##' + ch);
  }
  const pieces = new Map<string, number>();
  for (const [w, c] of words) {
    const cs = Array.from(w);
    for (let k = 2; k <= Math.min(6, cs.length - 1); k++) {
      pieces.set(cs.slice(0, k).join(''), (pieces.get(cs.slice(0, k).join('')) ?? 0) + c);
      pieces.set('##' + cs.slice(-k).join(''), (pieces.get('##' + cs.slice(-k).join('')) ?? 0) + c);
    }
  }
  const topWords = byCount(words);
  const topPieces = byCount(pieces);
  for (let i = 0; vocab.size < opts.size && (i < topWords.length || i < topPieces.length); i++) {
    if (i < topWords.length) add(topWords[i]);
    if (i < topPieces.length) add(topPieces[i]);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t, i) => addedToken(i, t)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: opts.lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab) },
  };
}

/** Merges that build each frequent word from its characters, alternately left to right and right
 *  to left, so that ranks compete as in a trained model. Returns merges in rank order. */
function deriveMerges(words: string[][], maxMerges: number, vocab: Map<string, number>): [string, string][] {
  const merges: [string, string][] = [];
  const seen = new Set<string>();
  const add = (a: string, b: string) => {
    const key = a + '\u0000' + b;
    if (seen.has(key) || !vocab.has(a) || !vocab.has(b)) return;
    seen.add(key);
    merges.push([a, b]);
    if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
  };
  // Frequent character pairs first (as BPE training would find them), then whole words.
  const pairs = new Map<string, number>();
  for (const w of words) for (let i = 0; i + 1 < w.length; i++) pairs.set(w[i] + '\u0000' + w[i + 1], (pairs.get(w[i] + '\u0000' + w[i + 1]) ?? 0) + 1);
  for (const p of byCount(pairs).slice(0, maxMerges >> 2)) {
    const [a, b] = p.split('\u0000');
    add(a, b);
  }
  words.forEach((w, k) => {
    if (merges.length >= maxMerges || w.length < 2) return;
    if (k % 2 === 0) {
      let acc = w[0];
      for (let i = 1; i < w.length; i++) {
        add(acc, w[i]);
        acc += w[i];
      }
    } else {
      let acc = w[w.length - 1];
      for (let i = w.length - 2; i >= 0; i--) {
        add(w[i], acc);
        acc = w[i] + acc;
      }
    }
  });
  return merges.slice(0, maxMerges);
}

const GPT2_WORDS = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const enc = new TextEncoder();
const byteLevel = (s: string) => Array.from(enc.encode(s), (b) => BYTE_TO_CHAR[b]);

/** GPT-2 / RoBERTa byte-level BPE: the 256 byte characters, merges of frequent words. */
export function buildByteLevelBpeJson(
  texts: string[],
  opts: { merges: number; addPrefixSpace: boolean; post: 'roberta' | 'bytelevel'; trimOffsets: boolean },
): TokenizerJson {
  const vocab = new Map<string, number>();
  for (const t of ['<s>', '<pad>', '</s>', '<unk>']) vocab.set(t, vocab.size);
  for (let b = 0; b < 256; b++) vocab.set(BYTE_TO_CHAR[b], vocab.size);
  const counts = wordCounts(texts, (t) => t.match(GPT2_WORDS) ?? []);
  const words = byCount(counts).map(byteLevel);
  const merges = deriveMerges(words, opts.merges, vocab);
  vocab.set('<mask>', vocab.size);
  const maskId = vocab.size - 1;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken(0, '<s>'), addedToken(1, '<pad>'), addedToken(2, '</s>'), addedToken(3, '<unk>'), addedToken(maskId, '<mask>', { lstrip: true })],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: opts.addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor:
      opts.post === 'roberta'
        ? { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: opts.trimOffsets, add_prefix_space: opts.addPrefixSpace }
        : { type: 'ByteLevel', add_prefix_space: opts.addPrefixSpace, trim_offsets: opts.trimOffsets, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
}

/** Llama-2-style BPE: ▁ for spaces (normalizer), characters seen at least 3 times, <0xXX> byte
 *  tokens for the others (byte_fallback), merges of frequent words. */
export function buildSentencePieceBpeJson(texts: string[], opts: { merges: number }): TokenizerJson {
  const vocab = new Map<string, number>();
  for (const t of ['<unk>', '<s>', '</s>']) vocab.set(t, vocab.size);
  for (let b = 0; b < 256; b++) vocab.set(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, vocab.size);
  const spaced = (t: string) => '\u2581' + t.replaceAll(' ', '\u2581');
  const chars = new Map<string, number>();
  for (const t of texts) for (const ch of spaced(t)) chars.set(ch, (chars.get(ch) ?? 0) + 1);
  for (const ch of byCount(chars)) if ((chars.get(ch) ?? 0) >= 3) vocab.set(ch, vocab.size);
  const counts = wordCounts(texts, (t) => spaced(t).match(/\u2581[^\u2581]*/gu) ?? []);
  const words = byCount(counts).map((w) => Array.from(w));
  const merges = deriveMerges(words, opts.merges, vocab);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [addedToken(0, '<unk>'), addedToken(1, '<s>'), addedToken(2, '</s>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
