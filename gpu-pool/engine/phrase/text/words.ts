import type { Span } from './sentences.ts';

// A word: letters/digits (with combining marks), joined across an apostrophe, hyphen or period
// that sits between two of them ("don't", "state-of-the-art", "3.5"), or a comma between digits
// ("1,000"). A dotted abbreviation keeps its final period ("U.S."). Other punctuation is dropped.
const WORD = /(?:\p{L}\.){2,}(?![\p{L}\p{N}])|[\p{L}\p{N}][\p{L}\p{N}\p{M}]*(?:(?:['’\-‐‑.]|(?<=\p{N}),(?=\p{N}))[\p{L}\p{N}][\p{L}\p{N}\p{M}]*)*/gu;

/** The words of `text` as UTF-16 offset ranges, in order. */
export function wordSpans(text: string): Span[] {
  return [...text.matchAll(WORD)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
}
