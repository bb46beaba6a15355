// tokenizer.json regexes are Oniguruma's (Replace, Split): \w \s \d mean Unicode classes there,
// ASCII (or, for \s, a slightly different set) in JS. Rewritten here; the rest is kept as is.

const ONIG_WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE'; // with its Latin-1 quirks
const OUTSIDE: Record<string, string> = {
  w: `[${ONIG_WORD}]`,
  W: `[^${ONIG_WORD}]`,
  s: '\\p{White_Space}',
  S: '\\P{White_Space}',
  d: '\\p{Nd}',
  D: '\\P{Nd}',
};
const INSIDE: Record<string, string> = { w: ONIG_WORD, s: '\\p{White_Space}', S: '\\P{White_Space}', d: '\\p{Nd}', D: '\\P{Nd}' };

export function onigToJs(pattern: string): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      const e = pattern[++i];
      const sub = inClass ? INSIDE[e] : OUTSIDE[e];
      if (sub !== undefined) out += sub;
      else if (inClass && e === 'W') throw new SyntaxError('\\W inside a character class');
      else out += c + e;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return new RegExp(out, 'gu');
}
