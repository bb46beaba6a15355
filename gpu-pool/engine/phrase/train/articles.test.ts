import { describe, expect, it } from 'vitest';
import { ArticleRangeError, formatArticles, parseArticles, splitArticles } from './articles.ts';

describe('--articles', () => {
  it('reads inclusive ranges and single articles, in order, without repeats', () => {
    expect(parseArticles('0-3')).toEqual([0, 1, 2, 3]);
    expect(parseArticles('7, 0-2,2-3')).toEqual([0, 1, 2, 3, 7]);
    expect(parseArticles('5')).toEqual([5]);
    expect(formatArticles([0, 1, 2, 3, 7, 9, 10])).toBe('0-3,7,9-10');
  });

  it('refuses what is not a list of ranges, and ranges that run backwards', () => {
    expect(() => parseArticles('5-3')).toThrow(/the range 5-3 ends before it starts/);
    expect(() => parseArticles('a-3')).toThrow(/"a-3" is not an article number or a range like 0-23/);
    expect(() => parseArticles('-1')).toThrow(ArticleRangeError);
    expect(() => parseArticles('')).toThrow(/inclusive ranges separated by commas/);
    expect(() => parseArticles('1,,2')).toThrow(/inclusive ranges separated by commas/);
  });

  it('splits off the last validation articles, and refuses articles the file lacks', () => {
    expect(splitArticles([0, 1, 2, 3, 7], 48, 2, 'f.json')).toEqual({ train: [0, 1, 2], validation: [3, 7] });
    expect(splitArticles([0, 1], 48, 0, 'f.json')).toEqual({ train: [0, 1], validation: [] });
    expect(() => splitArticles(parseArticles('40-50'), 48, 2, 'dev.json')).toThrow('--articles 40-50: dev.json has 48 articles (0-47); there is no article 48-50');
    expect(() => splitArticles([0, 1], 48, 2, 'f.json')).toThrow(/--validation-articles 2 leaves no training article of the 2 given/);
  });
});
