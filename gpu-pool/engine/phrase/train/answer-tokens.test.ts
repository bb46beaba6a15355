// Answers → gold tokens on hand-made paragraphs, tokenized by the real use-lite tokenizer (no model run).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../../test/fixtures.ts';
import { loadManifest, loadTokenizer } from '../../encoders/index.ts';
import { tokenBoundaries } from '../model/index.ts';
import { answerTokens } from './answer-tokens.ts';

const tokenizer = loadTokenizer(loadManifest(join(REPO_ROOT, 'models', 'use-lite-tokens')).tokenizerPath, { warn: () => {} });

/** The phrase `answer` (its first occurrence in `context`) maps to, as text, or why it was dropped. */
function mapped(context: string, answer: string, maxPhraseTokens = 20): string {
  const at = context.indexOf(answer);
  if (at < 0) throw new Error(`"${answer}" is not in the context`);
  const { ids, offsets } = tokenizer.encodeWithOffsets(context);
  const b = tokenBoundaries(context, ids, offsets, tokenizer);
  const r = answerTokens(context, b, at, at + answer.length, maxPhraseTokens);
  return 'dropped' in r ? `(${r.dropped})` : context.slice(b.charStart[r.start], b.charEnd[r.end]);
}

describe('answer → gold start and end tokens', () => {
  const text = 'Country singer Kevin Skinner (born 1974) won, on September 16, 2009, the "Grand Prize" of the U.S. show.';

  it('maps an answer of whole words to exactly its text', () => {
    for (const a of ['Kevin Skinner', 'Skinner', 'September 16, 2009', 'Country', 'show', 'born 1974', 'Skinner (born'])
      expect(mapped(text, a)).toBe(a);
  });

  it('leaves out punctuation and spaces at either end (a phrase never starts or ends on them)', () => {
    expect(mapped(text, '(born 1974)')).toBe('born 1974');
    expect(mapped(text, '2009,')).toBe('2009');
    expect(mapped(text, '"Grand Prize"')).toBe('Grand Prize');
    expect(mapped(text, ' Kevin Skinner ')).toBe('Kevin Skinner');
    expect(mapped(text, 'U.S.')).toBe('U.S');
  });

  it('widens an answer that starts or ends inside a word to the whole word', () => {
    expect(mapped(text, 'evin Skinn')).toBe('Kevin Skinner');
    expect(mapped(text, 'ountr')).toBe('Country');
  });

  it('drops answers with no phrase boundary inside, and answers longer than maxPhraseTokens', () => {
    expect(mapped(text, ', ')).toBe('(unmapped)');
    expect(mapped(text, ' (')).toBe('(unmapped)');
    const tokens = tokenizer.encode('Country singer Kevin Skinner').length;
    expect(mapped(text, 'Country singer Kevin Skinner', tokens)).toBe('Country singer Kevin Skinner');
    expect(mapped(text, 'Country singer Kevin Skinner', tokens - 1)).toBe('(too-long)');
  });
});
