import { describe, expect, it } from 'vitest';
import { answerRecallAt, emAt1, f1At1, phraseExactRecallAt, scoreQa, summarizeQa } from './qa-metrics.ts';

const ranked = [
  { phrase: 'Neil Armstrong', passage: 'In 1969 Neil Armstrong walked on the Moon.' },
  { phrase: 'December 1972', passage: 'Apollo 17 left the Moon on 14 December 1972.' },
  { phrase: 'Apollo 17' },
];
const golds = ['14 December 1972 UTC', 'December 1972'];

describe('QA metrics', () => {
  it('score the top phrase for EM and F1', () => {
    expect(emAt1(ranked, golds)).toBe(0);
    expect(f1At1(ranked, golds)).toBe(0);
    expect(emAt1(ranked.slice(1), golds)).toBe(1);
    // "the December 1972." vs "14 December 1972 UTC": 2 common, p = 1, r = 2/4 → 2/3.
    expect(f1At1([{ phrase: 'the December 1972.' }], ['14 December 1972 UTC'])).toBeCloseTo(2 / 3, 12);
    expect(emAt1([], golds)).toBe(0);
    expect(f1At1([], golds)).toBe(0);
  });

  it('find an exact phrase within the top k only', () => {
    expect(phraseExactRecallAt(1, ranked, golds)).toBe(0);
    expect(phraseExactRecallAt(2, ranked, golds)).toBe(1);
    expect(phraseExactRecallAt(100, ranked, ['Apollo  17!'])).toBe(1);
    expect(phraseExactRecallAt(2, ranked, ['Apollo 17'])).toBe(0);
  });

  it('find an answer as whole words in the evidence passage, or the phrase without one', () => {
    expect(answerRecallAt(1, ranked, ['the moon'])).toBe(1); // "moon" in passage 1
    expect(answerRecallAt(1, ranked, golds)).toBe(0);
    expect(answerRecallAt(2, ranked, golds)).toBe(1); // "december 1972" in passage 2
    expect(answerRecallAt(2, ranked, ['197'])).toBe(0); // not a word of "1972"
    expect(answerRecallAt(2, ranked, ['Armstrong walked'])).toBe(1);
    expect(answerRecallAt(3, ranked, ['apollo 17'])).toBe(1);
    expect(answerRecallAt(1, [{ phrase: 'Apollo 17' }], ['Apollo'])).toBe(1);
    expect(answerRecallAt(3, ranked, ['The', ''])).toBe(0);
    expect(() => answerRecallAt(0, ranked, golds)).toThrow(/positive integer/);
    expect(() => phraseExactRecallAt(1.5, ranked, golds)).toThrow(/positive integer/);
  });

  it('summarise per-query scores as means', () => {
    const rows = [scoreQa(ranked, golds, [1, 2]), scoreQa(ranked, ['Neil Armstrong'], [1, 2]), scoreQa([], golds, [1, 2])];
    expect(rows[0]).toEqual({ 'em@1': 0, 'f1@1': 0, 'phrase-recall@1': 0, 'answer-recall@1': 0, 'phrase-recall@2': 1, 'answer-recall@2': 1 });
    const { mean, queries } = summarizeQa(rows);
    expect(queries).toBe(3);
    expect(mean).toEqual({ 'em@1': 1 / 3, 'f1@1': 1 / 3, 'phrase-recall@1': 1 / 3, 'answer-recall@1': 1 / 3, 'phrase-recall@2': 2 / 3, 'answer-recall@2': 2 / 3 });
    expect(summarizeQa([])).toEqual({ mean: {}, queries: 0 });
    expect(() => summarizeQa([rows[0], scoreQa(ranked, golds, [1])])).toThrow(/row 1/);
  });
});
