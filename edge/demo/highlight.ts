// Marking for the demo page's evidence passages: query terms, or a phrase search's answer span.
// They return segments rather than HTML because passages are untrusted: the page turns them
// into text nodes and <mark>s.
//
// The page inlines these functions with `.toString()`, so each must stay one self-contained
// function: no imports, no module-level helpers, and no nested functions bound to names (a
// bundler that keeps names wraps those in a `__name()` helper the page lacks).

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

/**
 * Splits `text` around a phrase search's `span` (UTF-16 offsets into `text`, as the API gives
 * them): the span is the one matching segment, and the segments rejoin to `text`. Undefined when
 * the span does not lie within `text` or is not what its offsets cut out, so a page never marks
 * the wrong words (it highlights query terms instead).
 *
 * Inlined by the page like highlightSegments: the same rules (one self-contained function).
 */
export function spanSegments(text: string, span: { start: number; end: number; text: string }): Segment[] | undefined {
  const { start, end } = span;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end <= start || end > text.length) return undefined;
  if (text.slice(start, end) !== span.text) return undefined;
  const segments: Segment[] = [];
  if (start > 0) segments.push({ text: text.slice(0, start), match: false });
  segments.push({ text: span.text, match: true });
  if (end < text.length) segments.push({ text: text.slice(end), match: false });
  return segments;
}
