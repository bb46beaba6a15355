// A small rule-based sentence splitter for evidence passages (Wikipedia / SQuAD prose). It only
// needs to be good enough to bound phrase neighbourhoods and to show sentence evidence; the
// rules are few on purpose, so that their mistakes are easy to predict.

export interface Span {
  /** UTF-16 offset of the first character (a JavaScript string index). */
  start: number;
  /** UTF-16 offset just past the last character. */
  end: number;
}

// A sentence may end at a run of . ! ? (plus closing quotes/brackets) followed by white space and
// then an uppercase letter, a digit, an opening quote or a "(". A lowercase start never splits, which
// already keeps "e.g. this", "etc. and", "3.5" and "U.S. forces" together.
const BOUNDARY = /[.!?]+["'”’)\]]*(?=\s+(?:[\p{Lu}\p{Lt}\p{N}]|["“‘'(]))/gu;

// Words that, with a single period, usually precede a name or number rather than end a sentence.
// ("etc." and "Inc." are left out: before a capital they mostly do end one.)
const ABBREVIATIONS = new Set([
  'Mr', 'Mrs', 'Ms', 'Dr', 'Prof', 'St', 'Mt', 'Ft', 'Sr', 'Gen', 'Gov', 'Sen', 'Rep', 'Rev', 'Col',
  'Lt', 'Sgt', 'Capt', 'Adm', 'Hon', 'vs', 'v', 'No', 'Nos', 'Vol', 'pp', 'p', 'Fig', 'fig', 'al',
  'cf', 'ca', 'c', 'approx', 'Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Jul', 'Aug', 'Sep', 'Sept', 'Oct',
  'Nov', 'Dec',
]);
// "U.S." "e.g." "D.C.": single letters joined by periods (the regex sees the text before the last one).
const DOTTED = /^(?:\p{L}\.)+\p{L}$/u;
// "J. R. R. Tolkien": a lone capital is an initial. ("World War I. The" is split wrongly: accepted.)
const INITIAL = /^\p{Lu}$/u;

/**
 * Sentence spans of `text`, in order: each trimmed of surrounding white space, together covering
 * every non-space character exactly once. Rules: split after . ! ? (and closing quotes or
 * brackets) when white space and then an uppercase letter, digit, opening quote or "(" follow; but
 * not after a single period ending an abbreviation from a short list (Mr., Dr., St., No., vs.,
 * months, ...), a dotted abbreviation (U.S., e.g.) or a one-capital initial.
 */
export function splitSentences(text: string): Span[] {
  const spans: Span[] = [];
  let from = 0;
  for (const m of text.matchAll(BOUNDARY)) {
    // Only a lone period can end an abbreviation ("Dr."), not "..." or "?".
    if (/^\.(?![.!?])/.test(m[0]) && isAbbreviation(text, m.index)) continue;
    const end = m.index + m[0].length;
    pushTrimmed(text, from, end, spans);
    from = end;
  }
  pushTrimmed(text, from, text.length, spans);
  return spans;
}

/** Whether the word right before the period at `dot` is an abbreviation, not a sentence's end. */
function isAbbreviation(text: string, dot: number): boolean {
  let start = dot;
  while (start > 0 && !/\s/u.test(text[start - 1])) start--;
  // Opening quotes or brackets before the word ("(Mr.") are not part of it.
  const word = text.slice(start, dot).replace(/^[^\p{L}\p{N}]+/u, '');
  return ABBREVIATIONS.has(word) || DOTTED.test(word) || INITIAL.test(word);
}

function pushTrimmed(text: string, start: number, end: number, spans: Span[]): void {
  while (start < end && /\s/u.test(text[start])) start++;
  while (end > start && /\s/u.test(text[end - 1])) end--;
  if (end > start) spans.push({ start, end });
}
