// Normalizers of HF tokenizers.json: NFC/NFD/NFKC/NFKD, Lowercase, Strip, StripAccents, Replace,
// Prepend, BertNormalizer, Sequence. `Precompiled` (SentencePiece charsmap) is approximated by NFKC.
import { type ComponentJson, UnsupportedTokenizerError } from './types.ts';

export type Normalize = (text: string) => string;

const identity: Normalize = (s) => s;

const CONTROL = /\p{C}/u; // Cc Cf Cs Co Cn: what HF's is_control / is_other covers
const WHITESPACE = /\p{White_Space}/u;
const NONSPACING_MARK = /\p{Mn}/gu;

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

function bertNormalizer(cfg: ComponentJson): Normalize {
  const cleanText = cfg.clean_text !== false;
  const chinese = cfg.handle_chinese_chars !== false;
  const lowercase = cfg.lowercase !== false;
  const strip = typeof cfg.strip_accents === 'boolean' ? cfg.strip_accents : lowercase;
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
    if (lowercase) s = s.toLowerCase();
    return s;
  };
}

function replacePattern(cfg: ComponentJson, where: string): RegExp | string {
  const pattern = cfg.pattern as { String?: string; Regex?: string } | undefined;
  if (pattern && typeof pattern.String === 'string') return pattern.String;
  if (pattern && typeof pattern.Regex === 'string') return new RegExp(pattern.Regex, 'gu');
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
      return (s) => s.toLowerCase();
    case 'StripAccents':
      return (s) => s.replace(NONSPACING_MARK, '');
    case 'Strip': {
      const left = cfg.left !== false;
      const right = cfg.right !== false;
      return (s) => (left && right ? s.trim() : left ? s.trimStart() : right ? s.trimEnd() : s);
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
