import { describe, expect, it } from 'vitest';
import { wordSpans } from './index.ts';

const words = (text: string) => wordSpans(text).map((s) => text.slice(s.start, s.end));

describe('wordSpans', () => {
  it('keeps apostrophes, hyphens, periods and digit commas between alphanumerics', () => {
    expect(words("Don't say state-of-the-art costs 1,000 or 3.5 in the U.S.; ok?")).toEqual([
      "Don't", 'say', 'state-of-the-art', 'costs', '1,000', 'or', '3.5', 'in', 'the', 'U.S.', 'ok',
    ]);
  });

  it('drops other punctuation, trailing periods and commas between words', () => {
    expect(words('(Paris, France) — "quoted" end. a,b 1990–1995 -x- \'tis')).toEqual([
      'Paris', 'France', 'quoted', 'end', 'a', 'b', '1990', '1995', 'x', 'tis',
    ]);
  });

  it('handles non-Latin letters, combining marks and UTF-16 offsets', () => {
    const text = '\u{1F600} Cafe\u0301 東京 Москва’s';
    const spans = wordSpans(text);
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual(['Cafe\u0301', '東京', 'Москва’s']);
    expect(spans[0].start).toBe(3); // the emoji is two UTF-16 units, then a space
  });

  it('finds nothing in punctuation or white space', () => {
    expect(wordSpans(' ... -- !? ')).toEqual([]);
  });
});
