import { describe, expect, it } from 'vitest';
import { formQueryText, parsePolicy, policyPieces } from './query-formation.ts';

const context = [
  { query: 'What is throat cancer?', response: 'A cancer of the pharynx or larynx.' },
  { query: 'Is it treatable?' },
  { query: 'Tell me about lung cancer.', response: 'The leading cause of cancer death.' },
];
const current = 'What are its symptoms?';

describe('query formation policies', () => {
  it('raw keeps the current utterance only', () => {
    expect(formQueryText(current, context, 'raw')).toBe(current);
  });

  it('concat puts the previous utterances, oldest first, before the current (the default)', () => {
    const want = 'What is throat cancer? Is it treatable? Tell me about lung cancer. What are its symptoms?';
    expect(formQueryText(current, context, 'concat')).toBe(want);
    expect(formQueryText(current, context, undefined)).toBe(want);
  });

  it('concat+responses puts each recorded response after its utterance', () => {
    expect(policyPieces(current, context, 'concat+responses')).toEqual([
      'What is throat cancer?',
      'A cancer of the pharynx or larynx.',
      'Is it treatable?',
      'Tell me about lung cancer.',
      'The leading cause of cancer death.',
      current,
    ]);
  });

  it('first takes the conversation’s first utterance, window:N the last N', () => {
    expect(formQueryText(current, context, 'first')).toBe('What is throat cancer? What are its symptoms?');
    expect(formQueryText(current, context, 'window:1')).toBe('Tell me about lung cancer. What are its symptoms?');
    expect(formQueryText(current, context, 'window:2')).toBe('Is it treatable? Tell me about lung cancer. What are its symptoms?');
    expect(formQueryText(current, context, 'window:50')).toBe(formQueryText(current, context, 'concat'));
  });

  it('without context every policy is the current utterance', () => {
    for (const policy of ['raw', 'concat', 'concat+responses', 'first', 'window:3']) {
      expect(formQueryText(current, [], policy)).toBe(current);
      expect(formQueryText(current, undefined, policy)).toBe(current);
    }
  });

  it('cuts whole turns from the oldest end to fit a window, never the current utterance', () => {
    const words = { maxTokens: 9, countTokens: (t: string) => t.split(' ').length };
    // 4 + 3 + 5 + 4 words: the first turn goes, then the second.
    expect(formQueryText(current, context, 'concat', words)).toBe('Tell me about lung cancer. What are its symptoms?');
    expect(formQueryText(current, context, 'concat', { ...words, maxTokens: 2 })).toBe(current);
    expect(formQueryText(current, context, 'concat', { ...words, maxTokens: 100 })).toBe(formQueryText(current, context, 'concat'));
  });

  it('refuses an unknown policy, naming it and the choices', () => {
    expect(() => parsePolicy('window:0')).toThrow(/unknown policy "window:0": must be raw, concat, concat\+responses, first or window:N/);
    expect(() => formQueryText(current, context, 'all')).toThrow(/unknown policy "all"/);
    expect(parsePolicy('window:12')).toEqual({ kind: 'window', turns: 12 });
  });
});
