import { describe, expect, it } from 'vitest';
import { analyze, MAX_TOKEN_CHARS } from './analyze.ts';

describe('analyze', () => {
  it('lowercases, drops Lucene English stop words and Porter-stems', () => {
    expect(analyze('The Running of THE bulls is not dangerous')).toEqual(['run', 'bull', 'danger']);
  });

  it('splits on anything that is not a letter or digit, Unicode-aware', () => {
    expect(analyze('COVID-19 vaccines_work; naïve Straße 東京')).toEqual(['covid', '19', 'vaccin', 'work', 'naïv', 'straße', '東京']);
  });

  it('keeps decomposed accents inside the word', () => {
    expect(analyze('cafe\u0301 menu')).toEqual(['cafe\u0301', 'menu']);
  });

  it("drops possessive 's rather than leaving a stray s", () => {
    expect(analyze("Alzheimer's disease and the patients’ s")).toEqual(['alzheim', 'diseas', 'patient', 's']);
  });

  it('drops overlong tokens', () => {
    const long = 'x'.repeat(MAX_TOKEN_CHARS + 1);
    expect(analyze(`short ${long} ${'z'.repeat(MAX_TOKEN_CHARS)}`)).toEqual(['short', 'z'.repeat(MAX_TOKEN_CHARS)]);
  });

  it('keeps repeated tokens (bag of words) and returns nothing for empty or stop-only text', () => {
    expect(analyze('cell cells CELL')).toEqual(['cell', 'cell', 'cell']);
    expect(analyze('')).toEqual([]);
    expect(analyze('the and of, to!')).toEqual([]);
  });
});
