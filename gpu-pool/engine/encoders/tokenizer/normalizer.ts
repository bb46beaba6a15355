// Normalizers of HF tokenizers.json: NFC/NFD/NFKC/NFKD, Lowercase, Strip, StripAccents, Replace,
// Prepend, BertNormalizer, Sequence. `Precompiled` (SentencePiece charsmap) is approximated by NFKC.
// Each has a plain-string form (the fast `encode` path) and an aligned form that also tracks where
// each char came from (`encodeWithOffsets`); both give the same text.
import { type Aligned, filterChars, mapChars, normalizeAligned, transform, type Change } from './aligned.ts';
import { onigToJs } from './onig.ts';
import { type ComponentJson, UnsupportedTokenizerError } from './types.ts';

export type Normalize = (text: string) => string;
export type NormalizeAligned = (text: Aligned) => Aligned;

const identity: Normalize = (s) => s;

const CONTROL = /\p{C}/u; // Cc Cf Cs Co Cn: what HF's is_control / is_other covers
const WHITESPACE = /\p{White_Space}/u;
const NONSPACING_MARK = /\p{Mn}/gu;
const MARK = /\p{M}/gu; // HF StripAccents removes every combining mark (Mn, Mc, Me)
const LEADING_WS = /^\p{White_Space}+/u; // Rust char::is_whitespace (JS trim() also strips U+FEFF, not U+0085)
const TRAILING_WS = /\p{White_Space}+$/u;

/** Char by char, as Rust's `char::to_lowercase`: JS would turn a word-final Σ into ς, HF gives σ. */
export function lowercaseChars(s: string): string {
  return s.includes('\u03a3') ? s.replaceAll('\u03a3', '\u03c3').toLowerCase() : s.toLowerCase();
}
const lowercase: Normalize = lowercaseChars;

function strip(s: string, left: boolean, right: boolean): string {
  if (left) s = s.replace(LEADING_WS, '');
  if (right) s = s.replace(TRAILING_WS, '');
  return s;
}

/** CJK ideograph ranges that BertNormalizer pads with spaces (same table as HF / Google BERT). */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export function stripAccents(s: string): string {
  return s.normalize('NFD').replace(NONSPACING_MARK, '');
}

function bertOptions(cfg: ComponentJson) {
  const lowercase = cfg.lowercase !== false;
  return {
    cleanText: cfg.clean_text !== false,
    chinese: cfg.handle_chinese_chars !== false,
    lowercase,
    strip: typeof cfg.strip_accents === 'boolean' ? cfg.strip_accents : lowercase,
  };
}

function bertNormalizer(cfg: ComponentJson): Normalize {
  const { cleanText, chinese, lowercase, strip } = bertOptions(cfg);
  return (text) => {
    let s = text;
    if (cleanText || chinese) {
      let out = '';
      for (const ch of s) {
        const cp = ch.codePointAt(0)!;
        if (cleanText) {
          if (ch === '\t' || ch === '\n' || ch === '\r') {
            out += ' ';
            continue;
          }
          if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
          if (WHITESPACE.test(ch)) {
            out += ' ';
            continue;
          }
        }
        out += chinese && isChineseChar(cp) ? ` ${ch} ` : ch;
      }
      s = out;
    }
    if (strip) s = stripAccents(s);
    if (lowercase) s = lowercaseChars(s);
    return s;
  };
}

function replacePattern(cfg: ComponentJson, where: string): RegExp | string {
  const pattern = cfg.pattern as { String?: string; Regex?: string } | undefined;
  if (pattern && typeof pattern.String === 'string') return pattern.String;
  if (pattern && typeof pattern.Regex === 'string') {
    try {
      return onigToJs(pattern.Regex);
    } catch (err) {
      throw new UnsupportedTokenizerError(`${where}: Replace regex not supported in JavaScript: ${(err as Error).message}`);
    }
  }
  throw new UnsupportedTokenizerError(`${where}: Replace needs pattern.String or pattern.Regex`);
}

export function buildNormalizer(cfg: ComponentJson | null | undefined, warn?: (msg: string) => void): Normalize {
  if (!cfg) return identity;
  switch (cfg.type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = cfg.type;
      return (s) => s.normalize(form);
    }
    case 'Lowercase':
      return lowercase;
    case 'StripAccents':
      return (s) => s.replace(MARK, '');
    case 'Strip': {
      const left = cfg.strip_left !== false; // HF writes strip_left / strip_right
      const right = cfg.strip_right !== false;
      return (s) => strip(s, left, right);
    }
    case 'Replace': {
      const pattern = replacePattern(cfg, 'normalizer');
      const content = String(cfg.content ?? '');
      return typeof pattern === 'string' ? (s) => s.split(pattern).join(content) : (s) => s.replace(pattern, content);
    }
    case 'Prepend': {
      const prepend = String(cfg.prepend ?? '');
      return (s) => (s.length > 0 ? prepend + s : s); // HF prepends only to non-empty input
    }
    case 'BertNormalizer':
      return bertNormalizer(cfg);
    case 'Precompiled':
      warn?.('tokenizer normalizer Precompiled (SentencePiece charsmap) is approximated by NFKC');
      return (s) => s.normalize('NFKC');
    case 'Sequence': {
      const parts = ((cfg.normalizers as ComponentJson[]) ?? []).map((n) => buildNormalizer(n, warn));
      return (s) => parts.reduce((acc, f) => f(acc), s);
    }
    default:
      throw new UnsupportedTokenizerError(
        `unsupported tokenizer normalizer type ${JSON.stringify(cfg.type)} (supported: NFC, NFD, NFKC, NFKD, Lowercase, ` +
          'Strip, StripAccents, Replace, Prepend, BertNormalizer, Precompiled, Sequence)',
      );
  }
}

// ---- aligned forms (encodeWithOffsets), same text as above --------------------------------------

function bertNormalizerAligned(cfg: ComponentJson): NormalizeAligned {
  const { cleanText, chinese, lowercase, strip } = bertOptions(cfg);
  return (a) => {
    if (cleanText) {
      a = mapChars(a, (ch) => {
        if (ch === '\t' || ch === '\n' || ch === '\r') return ' ';
        const cp = ch.codePointAt(0)!;
        if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) return '';
        return WHITESPACE.test(ch) ? ' ' : ch;
      });
    }
    if (chinese) {
      // HF: (' ', +1), (c, 0), (' ', +1): the leading space aligns to the char before.
      const changes: Change[] = [];
      for (const ch of a.text) {
        if (isChineseChar(ch.codePointAt(0)!)) changes.push([' ', 1], [ch, 0], [' ', 1]);
        else changes.push([ch, 0]);
      }
      a = transform(a, changes);
    }
    if (strip) a = filterChars(normalizeAligned(a, 'NFD'), (ch) => !/\p{Mn}/u.test(ch));
    if (lowercase) a = mapChars(a, lowercaseChars);
    return a;
  };
}

function replaceAligned(pattern: RegExp | string, content: string): NormalizeAligned {
  const contentChars = Array.from(content);
  return (a) => {
    const changes: Change[] = [];
    let at = 0;
    const emitPlain = (to: number) => {
      for (const ch of a.text.slice(at, to)) changes.push([ch, 0]);
    };
    const onMatch = (from: number, to: number) => {
      emitPlain(from);
      // HF consumes the match, then inserts the content aligned to the match's last char.
      changes.push([null, -Array.from(a.text.slice(from, to)).length]);
      for (const ch of contentChars) changes.push([ch, 1]);
      at = to;
    };
    if (typeof pattern === 'string') {
      if (pattern.length > 0) {
        for (let i = a.text.indexOf(pattern); i >= 0; i = a.text.indexOf(pattern, at)) onMatch(i, i + pattern.length);
      }
    } else {
      for (const m of a.text.matchAll(pattern)) if (m[0].length > 0) onMatch(m.index!, m.index! + m[0].length);
    }
    if (at === 0) return a;
    emitPlain(a.text.length);
    return transform(a, changes);
  };
}

function prependAligned(prepend: string): NormalizeAligned {
  // Every prepended char aligns to the first char (HF `NormalizedString::prepend`).
  return (a) => {
    if (a.text.length === 0 || prepend.length === 0) return a;
    const first = String.fromCodePoint(a.text.codePointAt(0)!);
    const changes: Change[] = Array.from(prepend, (ch, i) => [ch, i === 0 ? 0 : 1] as const);
    changes.push([first, 1]);
    for (const ch of a.text.slice(first.length)) changes.push([ch, 0]);
    return transform(a, changes);
  };
}

function stripAligned(left: boolean, right: boolean): NormalizeAligned {
  return (a) => {
    const s = strip(a.text, left, right);
    if (s === a.text) return a;
    const from = left ? a.text.length - a.text.replace(LEADING_WS, '').length : 0;
    const changes: Change[] = [[null, -Array.from(a.text.slice(0, from)).length]];
    for (const ch of s) changes.push([ch, 0]);
    return transform(a, changes);
  };
}

export function buildAlignedNormalizer(cfg: ComponentJson | null | undefined): NormalizeAligned {
  if (!cfg) return (a) => a;
  switch (cfg.type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = cfg.type;
      return (a) => normalizeAligned(a, form);
    }
    case 'Lowercase':
      return (a) => mapChars(a, lowercaseChars);
    case 'StripAccents':
      return (a) => filterChars(a, (ch) => !/\p{M}/u.test(ch));
    case 'Strip':
      return stripAligned(cfg.strip_left !== false, cfg.strip_right !== false);
    case 'Replace':
      return replaceAligned(replacePattern(cfg, 'normalizer'), String(cfg.content ?? ''));
    case 'Prepend':
      return prependAligned(String(cfg.prepend ?? ''));
    case 'BertNormalizer':
      return bertNormalizerAligned(cfg);
    case 'Precompiled':
      return (a) => normalizeAligned(a, 'NFKC');
    case 'Sequence': {
      const parts = ((cfg.normalizers as ComponentJson[]) ?? []).map((n) => buildAlignedNormalizer(n));
      return (a) => parts.reduce((acc, f) => f(acc), a);
    }
    default:
      throw new UnsupportedTokenizerError(`unsupported tokenizer normalizer type ${JSON.stringify(cfg.type)}`);
  }
}
