// Pre-tokenizers of HF tokenizer.json: BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation,
// Digits, Metaspace, Split, ByteLevel, Sequence. Each splits a list of words into a (longer) list
// of words. Splitting ones are written once as "ranges of a word" and serve both the fast string
// path and the aligned path (encodeWithOffsets); Metaspace and ByteLevel also rewrite the text.
import { type Aligned, AlignedBuilder, sliceAligned, transform, type Change } from './aligned.ts';
import { onigToJs } from './onig.ts';
import { type ComponentJson, UnsupportedTokenizerError } from './types.ts';

/** `atStart`: the first word begins at the start of the input (Metaspace `prepend_scheme: first`). */
export type PreTokenize = (words: string[], atStart?: boolean) => string[];
export type PreTokenizeAligned = (words: Aligned[]) => Aligned[];

export interface PreTokenizer {
  words: PreTokenize;
  aligned: PreTokenizeAligned;
}

const ASCII_PUNCT = /[!-/:-@[-`{-~]/;
const UNICODE_PUNCT = /\p{P}/u;
const IS_WS = /\p{White_Space}/u;

/** BERT's punctuation: ASCII punctuation (incl. $+<=>^`|~) or any Unicode P* character. */
export function isBertPunctuation(ch: string): boolean {
  return ASCII_PUNCT.test(ch) || UNICODE_PUNCT.test(ch);
}

/** A split of one word: flat [start, end, start, end, ...] UTF-16 ranges, in order, non-empty. */
type Ranges = (word: string) => number[];

/** Whitespace removed, `isolate(ch)` chars alone, the rest grouped (BertPreTokenizer, Punctuation). */
function charRanges(isSpace: (ch: string) => boolean, isolate: (ch: string) => boolean): Ranges {
  return (w) => {
    const r: number[] = [];
    let cur = -1;
    for (let i = 0; i < w.length; ) {
      const cp = w.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      const ch = n === 1 ? w[i] : w.slice(i, i + 2);
      // ASCII letters and digits: neither space nor punctuation (the common case, no regex).
      const plain = (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x30 && cp <= 0x39);
      if (!plain && isSpace(ch)) {
        if (cur >= 0) r.push(cur, i);
        cur = -1;
      } else if (!plain && isolate(ch)) {
        if (cur >= 0) r.push(cur, i);
        r.push(i, i + n);
        cur = -1;
      } else if (cur < 0) cur = i;
      i += n;
    }
    if (cur >= 0) r.push(cur, w.length);
    return r;
  };
}

function regexRanges(re: RegExp): Ranges {
  return (w) => {
    const r: number[] = [];
    for (const m of w.matchAll(re)) if (m[0].length > 0) r.push(m.index!, m.index! + m[0].length);
    return r;
  };
}

type Behavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

/** HF `NormalizedString::split`: matches and the text between them, per `behavior`. */
function splitRanges(find: (w: string) => number[], behavior: Behavior, invert: boolean): Ranges {
  return (w) => {
    // (start, end, isMatch) triples covering the word
    const parts: [number, number, boolean][] = [];
    let prev = 0;
    const m = find(w);
    for (let i = 0; i < m.length; i += 2) {
      if (m[i] > prev) parts.push([prev, m[i], invert]);
      parts.push([m[i], m[i + 1], !invert]);
      prev = m[i + 1];
    }
    if (prev < w.length) parts.push([prev, w.length, invert]);
    let out: [number, number, boolean][] = [];
    if (behavior === 'Removed') out = parts.filter((p) => !p[2]).map((p) => [p[0], p[1], false]);
    else if (behavior === 'Isolated') out = parts;
    else if (behavior === 'Contiguous' || behavior === 'MergedWithPrevious') {
      let previous = false;
      for (const p of parts) {
        const merge = behavior === 'Contiguous' ? p[2] === previous && out.length > 0 : p[2] && !previous && out.length > 0;
        if (merge) out[out.length - 1][1] = p[1];
        else out.push([p[0], p[1], false]);
        previous = p[2];
      }
    } else {
      let previous = false;
      for (let i = parts.length - 1; i >= 0; i--) {
        const p = parts[i];
        if (p[2] && !previous && out.length > 0) out[out.length - 1][0] = p[0];
        else out.push([p[0], p[1], false]);
        previous = p[2];
      }
      out.reverse();
    }
    const r: number[] = [];
    for (const [s, e] of out) if (e > s) r.push(s, e);
    return r;
  };
}

function bySplit(ranges: Ranges): PreTokenizer {
  return {
    words: (words) => {
      const out: string[] = [];
      for (const w of words) {
        const r = ranges(w);
        for (let i = 0; i < r.length; i += 2) out.push(w.slice(r[i], r[i + 1]));
      }
      return out;
    },
    aligned: (words) => {
      const out: Aligned[] = [];
      for (const w of words) {
        const r = ranges(w.text);
        for (let i = 0; i < r.length; i += 2) out.push(sliceAligned(w, r[i], r[i + 1]));
      }
      return out;
    },
  };
}

// HF's Whitespace is `\w+|[^\w\s]+` in Rust's regex crate: \w is Unicode's word class (with
// Join_Control, unlike Oniguruma's), \s is White_Space. JS \w would be ASCII only.
const W = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const WORDISH = new RegExp(`[${W}]+|[^${W}\\p{White_Space}]+`, 'gu');

function metaspace(cfg: ComponentJson): PreTokenizer {
  const replacement = String(cfg.replacement ?? '\u2581');
  let scheme = cfg.prepend_scheme as string | undefined;
  if (scheme === undefined) scheme = cfg.add_prefix_space === false ? 'never' : 'always';
  const split = cfg.split !== false;
  const splitOnReplacement = splitRanges(
    (w) => {
      const r: number[] = [];
      for (let i = w.indexOf(replacement); i >= 0; i = w.indexOf(replacement, i + replacement.length)) r.push(i, i + replacement.length);
      return r;
    },
    'MergedWithNext',
    false,
  );
  const prepends = (w: string, first: boolean) =>
    (scheme === 'always' || (scheme === 'first' && first)) && w.length > 0 && !w.startsWith(replacement);
  return {
    words: (words, atStart = true) => {
      const out: string[] = [];
      words.forEach((word, i) => {
        let w = word.split(' ').join(replacement);
        if (prepends(w, atStart && i === 0)) w = replacement + w;
        if (!split) {
          if (w) out.push(w);
          return;
        }
        const r = splitOnReplacement(w);
        for (let k = 0; k < r.length; k += 2) out.push(w.slice(r[k], r[k + 1]));
      });
      return out;
    },
    aligned: (words) => {
      const out: Aligned[] = [];
      for (const word of words) {
        // Each replacement aligns to its space; a prepended one to the first char (HF replace / prepend).
        const changes: Change[] = [];
        let w = word.text;
        for (const ch of w) {
          if (ch === ' ') {
            changes.push([null, -1]);
            for (const r of replacement) changes.push([r, 1]);
          } else changes.push([ch, 0]);
        }
        let a = w.includes(' ') ? transform(word, changes) : word;
        w = a.text;
        if (prepends(w, word.origin === 0)) {
          const b = new AlignedBuilder(a.origin);
          for (const r of replacement) b.push(r, a.start[0], a.end[0]);
          for (let i = 0; i < w.length; i++) b.push(w[i], a.start[i], a.end[i]);
          a = b.build();
        }
        if (!split) {
          if (a.text) out.push(a);
          continue;
        }
        const r = splitOnReplacement(a.text);
        for (let k = 0; k < r.length; k += 2) out.push(sliceAligned(a, r[k], r[k + 1]));
      }
      return out;
    },
  };
}

// ---- ByteLevel (GPT-2 / RoBERTa) --------------------------------------------------------------

/** GPT-2's byte → printable char table (bytes_to_unicode). */
export const BYTE_TO_CHAR: string[] = (() => {
  const table: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : 256 + n++);
  }
  return table;
})();

// HF's ByteLevel regex (Oniguruma); \s there is Unicode White_Space.
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

const encoder = new TextEncoder();

function byteLevelChars(w: string): string {
  const bytes = encoder.encode(w);
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}

function byteLevel(cfg: ComponentJson): PreTokenizer {
  const addPrefixSpace = cfg.add_prefix_space === true;
  const useRegex = cfg.use_regex !== false;
  const ranges = useRegex ? regexRanges(GPT2_SPLIT) : (w: string) => (w.length ? [0, w.length] : []);
  return {
    words: (words) => {
      const out: string[] = [];
      for (let w of words) {
        if (addPrefixSpace && w.length > 0 && !w.startsWith(' ')) w = ' ' + w;
        const r = ranges(w);
        for (let i = 0; i < r.length; i += 2) out.push(byteLevelChars(w.slice(r[i], r[i + 1])));
      }
      return out;
    },
    aligned: (words) => {
      const out: Aligned[] = [];
      for (let a of words) {
        if (addPrefixSpace && a.text.length > 0 && !a.text.startsWith(' ')) {
          const b = new AlignedBuilder(a.origin);
          b.push(' ', a.start[0], a.end[0]);
          for (let i = 0; i < a.text.length; i++) b.push(a.text[i], a.start[i], a.end[i]);
          a = b.build();
        }
        const r = ranges(a.text);
        for (let i = 0; i < r.length; i += 2) {
          const piece = sliceAligned(a, r[i], r[i + 1]);
          // Every byte of a char aligns to that char (HF: first byte replaces it, the others are inserted).
          const b = new AlignedBuilder(piece.origin);
          const t = piece.text;
          for (let u = 0; u < t.length; ) {
            const cp = t.codePointAt(u)!;
            const n = cp > 0xffff ? 2 : 1;
            if (cp < 0x80) b.push(BYTE_TO_CHAR[cp], piece.start[u], piece.end[u]);
            else for (const byte of encoder.encode(t.slice(u, u + n))) b.push(BYTE_TO_CHAR[byte], piece.start[u], piece.end[u]);
            u += n;
          }
          out.push(b.build());
        }
      }
      return out;
    },
  };
}

function splitPattern(cfg: ComponentJson): (w: string) => number[] {
  const pattern = cfg.pattern as { String?: string; Regex?: string } | undefined;
  if (pattern && typeof pattern.String === 'string') {
    const s = pattern.String;
    return (w) => {
      const r: number[] = [];
      if (s.length > 0) for (let i = w.indexOf(s); i >= 0; i = w.indexOf(s, i + s.length)) r.push(i, i + s.length);
      return r;
    };
  }
  if (pattern && typeof pattern.Regex === 'string') {
    let re: RegExp;
    try {
      re = onigToJs(pattern.Regex);
    } catch (err) {
      throw new UnsupportedTokenizerError(`pre_tokenizer Split: regex not supported in JavaScript: ${(err as Error).message}`);
    }
    return regexRanges(re);
  }
  throw new UnsupportedTokenizerError('pre_tokenizer Split needs pattern.String or pattern.Regex');
}

const BEHAVIORS = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];

export function buildPreTokenizer(cfg: ComponentJson | null | undefined): PreTokenizer {
  if (!cfg) return { words: (words) => words.filter((w) => w.length > 0), aligned: (words) => words.filter((w) => w.text.length > 0) };
  switch (cfg.type) {
    case 'BertPreTokenizer':
      return bySplit(charRanges((ch) => IS_WS.test(ch), isBertPunctuation));
    case 'WhitespaceSplit':
      return bySplit(charRanges((ch) => IS_WS.test(ch), () => false));
    case 'Whitespace':
      return bySplit(regexRanges(WORDISH));
    case 'Punctuation': {
      const behavior = (cfg.behavior as string | undefined) ?? 'Isolated';
      if (!BEHAVIORS.includes(behavior)) throw new UnsupportedTokenizerError(`pre_tokenizer Punctuation behavior ${behavior} is not supported`);
      const find = (w: string) => {
        const r: number[] = [];
        for (let i = 0; i < w.length; ) {
          const n = w.codePointAt(i)! > 0xffff ? 2 : 1;
          if (isBertPunctuation(w.slice(i, i + n))) r.push(i, i + n);
          i += n;
        }
        return r;
      };
      return bySplit(splitRanges(find, behavior as Behavior, false));
    }
    case 'Digits':
      return cfg.individual_digits
        ? bySplit(splitRanges(regexRanges(/\p{N}/gu), 'Isolated', false)) // Rust char::is_numeric: any N*
        : bySplit(splitRanges(regexRanges(/\p{N}+/gu), 'Isolated', false));
    case 'Split': {
      const behavior = String(cfg.behavior ?? 'Isolated');
      if (!BEHAVIORS.includes(behavior)) throw new UnsupportedTokenizerError(`pre_tokenizer Split behavior ${behavior} is not supported`);
      return bySplit(splitRanges(splitPattern(cfg), behavior as Behavior, cfg.invert === true));
    }
    case 'Metaspace':
      return metaspace(cfg);
    case 'ByteLevel':
      return byteLevel(cfg);
    case 'Sequence': {
      const parts = ((cfg.pretokenizers as ComponentJson[]) ?? []).map(buildPreTokenizer);
      return {
        words: (words, atStart) => parts.reduce((acc, p) => p.words(acc, atStart), words),
        aligned: (words) => parts.reduce((acc, p) => p.aligned(acc), words),
      };
    }
    default:
      throw new UnsupportedTokenizerError(
        `unsupported tokenizer pre_tokenizer type ${JSON.stringify(cfg.type)} (supported: BertPreTokenizer, Whitespace, ` +
          'WhitespaceSplit, Punctuation, Digits, Split, Metaspace, ByteLevel, Sequence)',
      );
  }
}
