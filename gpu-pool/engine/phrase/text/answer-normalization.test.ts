import { describe, expect, it } from 'vitest';
import { exactMatch, f1Score, normalizeAnswer } from './index.ts';

describe('normalizeAnswer (SQuAD v1.1 evaluate script)', () => {
  it('lower-cases, drops ASCII punctuation and the articles, and collapses white space', () => {
    expect(normalizeAnswer('The  Denver Broncos!')).toBe('denver broncos');
    expect(normalizeAnswer('  an Apple,  a day\t(and) THE night ')).toBe('apple day and night');
    expect(normalizeAnswer("U.S. state-of-the-art 1,000 don't")).toBe('us stateoftheart 1000 dont');
  });

  it('removes articles only as whole words, after punctuation is gone', () => {
    expect(normalizeAnswer('theatre another ant')).toBe('theatre another ant');
    // "the-a" loses its hyphen first and becomes the word "thea", which is not an article.
    expect(normalizeAnswer('the-a')).toBe('thea');
    // "a.b" → "ab"; "(the)" → "the" → removed.
    expect(normalizeAnswer('a.b (the) x')).toBe('ab x');
  });

  it('uses Unicode word boundaries, as Python does', () => {
    // JavaScript's ASCII \b would see a boundary between "ñ" and "a" and remove the "a".
    expect(normalizeAnswer('ña añ')).toBe('ña añ');
    expect(normalizeAnswer('über a Straße')).toBe('über straße');
  });

  it('keeps non-ASCII punctuation, as the script does', () => {
    expect(normalizeAnswer('“Quoted” – dash')).toBe('“quoted” – dash');
  });

  it('is empty for an answer that is only articles and punctuation', () => {
    expect(normalizeAnswer('The.')).toBe('');
  });
});

describe('exactMatch and f1Score', () => {
  it('take the best gold answer', () => {
    expect(exactMatch('Denver Broncos', ['Carolina Panthers', 'the Denver Broncos'])).toBe(1);
    expect(exactMatch('Broncos', ['Denver Broncos'])).toBe(0);
    expect(f1Score('Broncos', ['Carolina Panthers', 'Denver Broncos'])).toBeCloseTo((2 * 1 * 0.5) / 1.5, 12);
  });

  it('counts repeated tokens at most as often as they occur in both (Counter intersection)', () => {
    // prediction "a b b c" → tokens [b, b, c] (the article goes); gold [b, c, c, d].
    // Common: b×1, c×1 = 2; precision 2/3, recall 2/4 → F1 = 2·(2/3)(1/2)/((2/3)+(1/2)) = 4/7.
    expect(f1Score('a b b c', ['b c c d'])).toBeCloseTo(4 / 7, 12);
  });

  it('is 0 when nothing is shared, when an answer normalises to nothing, or with no golds', () => {
    expect(f1Score('Paris', ['London'])).toBe(0);
    expect(f1Score('the', ['an'])).toBe(0); // both empty: the v1.1 script gives 0 (no common tokens)
    expect(exactMatch('the', ['an'])).toBe(1); // but '' === '' is an exact match
    expect(exactMatch('x', [])).toBe(0);
    expect(f1Score('x', [])).toBe(0);
  });
});
