import { describe, expect, it } from 'vitest';
import { lexicalReader } from './index.ts';

// Words: The0 Acme1 company2 was3 founded4 by5 John6 Smith7 in8 1901(9) | Later10 it11 moved12 to13 Paris14
const ACME = 'The Acme company was founded by John Smith in 1901. Later it moved to Paris.';
const WHO = 'Who founded the Acme company?'; // question words: founded, acme, company

describe('lexicalReader', () => {
  it('picks the span whose neighbourhood holds the most question words, nearest first', () => {
    // Sum of distances: spans starting at John 5 + 4 + 2 = 11 (shorter first), at Smith 14, 1901 20.
    const spans = lexicalReader(WHO, ACME, { topN: 5 });
    expect(spans.map((s) => [s.text, s.score])).toEqual([['John', 3], ['John Smith', 3], ['John Smith in 1901', 3], ['Smith', 3], ['Smith in 1901', 3]]);
    expect(spans[1].charStart).toBe(ACME.indexOf('John'));
    expect(spans[1].charEnd).toBe(ACME.indexOf(' in 1901'));
    expect(ACME.slice(spans[4].charStart, spans[4].charEnd)).toBe('Smith in 1901');
  });

  it('never returns a span with a question word, or starting or ending with a stopword', () => {
    const spans = lexicalReader(WHO, ACME, { topN: 1000 });
    expect(spans.length).toBeGreaterThan(10);
    for (const { text } of spans) {
      expect(text).not.toMatch(/acme|company|founded/i);
      expect(text).not.toMatch(/^(the|was|by|in|it|to)\b|\b(the|was|by|in|it|to)$/i);
      expect(text.split(' ').length).toBeLessThanOrEqual(4);
    }
    expect(lexicalReader(WHO, ACME, { topN: 1000, maxWords: 2 }).every((s) => s.text.split(' ').length <= 2)).toBe(true);
  });

  it('looks for question words in the candidate’s own sentence only, within the window', () => {
    const all = lexicalReader(WHO, ACME, { topN: 1000 });
    // "Later" is 6 words after "founded" but in the next sentence.
    expect(all.find((s) => s.text === 'Later')!.score).toBe(0);
    const text = 'Acme one two three four five Zed.';
    const zed = (window: number) => lexicalReader('Acme?', text, { topN: 100, window }).find((s) => s.text === 'Zed')!;
    expect(zed(6).score).toBe(1);
    expect(zed(5).score).toBe(0);
  });

  it('matches words case-insensitively and without a possessive', () => {
    expect(lexicalReader("Where are Acme's headquarters?", 'ACME headquarters are in Springfield.')[0]).toMatchObject({ text: 'Springfield', score: 2 });
  });

  it('breaks full ties by position', () => {
    expect(lexicalReader('What is near X?', 'Alpha X Beta.', { topN: 2 }).map((s) => s.text)).toEqual(['Alpha', 'Beta']);
  });

  it('returns nothing for a paragraph without candidates', () => {
    expect(lexicalReader(WHO, '')).toEqual([]);
    expect(lexicalReader(WHO, 'The Acme company.')).toEqual([]);
  });
});
