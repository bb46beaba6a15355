// Query-term highlighting for the demo page's evidence passages. It returns segments rather
// than HTML because passages are untrusted: the page turns them into text nodes and <mark>s.
//
// The page inlines this function with `highlightSegments.toString()`, so it must stay one
// self-contained function: no imports, no module-level helpers, and no nested functions bound
// to names (a bundler that keeps names wraps those in a `__name()` helper the page lacks).

export interface Segment {
  text: string;
  match: boolean;
}

/** Splits `text` into runs that do and do not match a term of `query`; the runs rejoin to `text`. */
export function highlightSegments(text: string, query: string): Segment[] {
  const stopwords = new Set(
    ('a an and are as at be been but by can do does for from had has have how if in into is it its ' +
      'no not of on or than that the their then there these this those to was were what when which who why will with')
      .split(' '),
  );
  // A crude stem: the first of these suffixes whose removal leaves at least 3 characters goes,
  // so "statins"/"statin" and "reduces"/"reduced"/"reduce" meet. Good enough to point at words.
  const suffixes = ['ing', 'ly', 'ed', 'es', 's', 'e'];
  const word = /[\p{L}\p{N}]+/gu;

  const terms = new Set<string>();
  const stems = new Set<string>();
  for (const [raw] of query.toLowerCase().matchAll(word)) {
    if (raw.length < 2 || stopwords.has(raw)) continue;
    terms.add(raw);
    const suffix = suffixes.find((s) => raw.endsWith(s) && raw.length - s.length >= 3);
    stems.add(suffix ? raw.slice(0, -suffix.length) : raw);
  }

  const segments: Segment[] = [];
  let plainFrom = 0;
  if (terms.size > 0) {
    for (const m of text.matchAll(word)) {
      const lower = m[0].toLowerCase();
      const suffix = suffixes.find((s) => lower.endsWith(s) && lower.length - s.length >= 3);
      if (!terms.has(lower) && !stems.has(suffix ? lower.slice(0, -suffix.length) : lower)) continue;
      const at = m.index ?? 0;
      if (at > plainFrom) segments.push({ text: text.slice(plainFrom, at), match: false });
      segments.push({ text: m[0], match: true });
      plainFrom = at + m[0].length;
    }
  }
  if (plainFrom < text.length || segments.length === 0) segments.push({ text: text.slice(plainFrom), match: false });
  return segments;
}
