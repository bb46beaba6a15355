// Pre-tokenizers of HF tokenizer.json: BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation,
// Digits, Metaspace, Sequence. Each splits a list of words into a (longer) list of words.
import { type ComponentJson, UnsupportedTokenizerError } from './types.ts';

export type PreTokenize = (words: string[]) => string[];

const WS = /\p{White_Space}+/u;
const ASCII_PUNCT = /[!-/:-@[-`{-~]/;
const UNICODE_PUNCT = /\p{P}/u;

/** BERT's punctuation: ASCII punctuation (incl. $+<=>^`|~) or any Unicode P* character. */
export function isBertPunctuation(ch: string): boolean {
  return ASCII_PUNCT.test(ch) || UNICODE_PUNCT.test(ch);
}

function splitWhitespace(word: string): string[] {
  return word.split(WS).filter((w) => w.length > 0);
}

/** Split off each punctuation character as its own word (behaviour "Isolated"). */
function isolate(word: string, test: (ch: string) => boolean): string[] {
  const out: string[] = [];
  let cur = '';
  for (const ch of word) {
    if (test(ch)) {
      if (cur) out.push(cur);
      out.push(ch);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

const WORDISH = /[\p{L}\p{N}\p{M}\p{Pc}]+|[^\p{L}\p{N}\p{M}\p{Pc}\p{White_Space}]+/gu;
const DIGIT = /\p{Nd}/u;

function metaspace(cfg: ComponentJson): PreTokenize {
  const replacement = String(cfg.replacement ?? '\u2581');
  let scheme = cfg.prepend_scheme as string | undefined;
  if (scheme === undefined) scheme = cfg.add_prefix_space === false ? 'never' : 'always';
  const split = cfg.split !== false;
  return (words) => {
    const out: string[] = [];
    words.forEach((word, i) => {
      let w = word.split(' ').join(replacement);
      const prepend = scheme === 'always' || (scheme === 'first' && i === 0);
      if (prepend && w.length > 0 && !w.startsWith(replacement)) w = replacement + w;
      if (!split) {
        if (w) out.push(w);
        return;
      }
      // MergedWithNext: each replacement char starts a new word.
      let cur = '';
      for (const ch of w) {
        if (ch === replacement && cur) {
          out.push(cur);
          cur = '';
        }
        cur += ch;
      }
      if (cur) out.push(cur);
    });
    return out;
  };
}

export function buildPreTokenizer(cfg: ComponentJson | null | undefined): PreTokenize {
  if (!cfg) return (words) => words.filter((w) => w.length > 0);
  switch (cfg.type) {
    case 'BertPreTokenizer':
      return (words) => words.flatMap(splitWhitespace).flatMap((w) => isolate(w, isBertPunctuation));
    case 'WhitespaceSplit':
      return (words) => words.flatMap(splitWhitespace);
    case 'Whitespace':
      return (words) => words.flatMap((w) => w.match(WORDISH) ?? []);
    case 'Punctuation':
      if (cfg.behavior !== undefined && cfg.behavior !== 'Isolated')
        throw new UnsupportedTokenizerError(`pre_tokenizer Punctuation behavior ${String(cfg.behavior)} is not supported`);
      return (words) => words.flatMap((w) => isolate(w, (ch) => UNICODE_PUNCT.test(ch) || ASCII_PUNCT.test(ch)));
    case 'Digits':
      return cfg.individual_digits
        ? (words) => words.flatMap((w) => isolate(w, (ch) => DIGIT.test(ch)))
        : (words) => words.flatMap((w) => w.match(/\p{Nd}+|\P{Nd}+/gu) ?? []);
    case 'Metaspace':
      return metaspace(cfg);
    case 'Sequence': {
      const parts = ((cfg.pretokenizers as ComponentJson[]) ?? []).map(buildPreTokenizer);
      return (words) => parts.reduce((acc, f) => f(acc), words);
    }
    default:
      throw new UnsupportedTokenizerError(
        `unsupported tokenizer pre_tokenizer type ${JSON.stringify(cfg.type)} (supported: BertPreTokenizer, Whitespace, ` +
          'WhitespaceSplit, Punctuation, Digits, Metaspace, Sequence)',
      );
  }
}
