import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SQUAD_DEV, requireShared } from '../../../../test/fixtures.ts';
import { readCorpus } from '../../corpus/index.ts';
import { splitSentences } from './index.ts';

const sentences = (text: string) => splitSentences(text).map((s) => text.slice(s.start, s.end));

describe('splitSentences', () => {
  it('splits after . ! ? before a capital, a digit, an opening quote or bracket', () => {
    expect(sentences('It rained. We stayed in! Did you? "Yes," he said. 1990 was dry.')).toEqual([
      'It rained.', 'We stayed in!', 'Did you?', '"Yes," he said.', '1990 was dry.',
    ]);
  });

  it('keeps closing quotes and brackets with the sentence they close', () => {
    expect(sentences('He said "stop." Then he left. (It was late.) Nobody saw.')).toEqual([
      'He said "stop."', 'Then he left.', '(It was late.)', 'Nobody saw.',
    ]);
  });

  it('does not split after abbreviations, initials, dotted acronyms or inside numbers', () => {
    const text = 'Mr. Smith met Dr. Jones on St. Mark St. in the U.S. Army camp. J. R. R. Tolkien wrote it, e.g. The Hobbit. ' +
      'It cost 3.5 dollars, i.e. not much, vs. No. 5 etc. and more. Done.';
    expect(sentences(text)).toEqual([
      'Mr. Smith met Dr. Jones on St. Mark St. in the U.S. Army camp.',
      'J. R. R. Tolkien wrote it, e.g. The Hobbit.',
      'It cost 3.5 dollars, i.e. not much, vs. No. 5 etc. and more.',
      'Done.',
    ]);
  });

  it('does not split before a lower-case word or without white space', () => {
    expect(sentences('See p. 4 of the report.It was fine. and so on')).toEqual(['See p. 4 of the report.It was fine. and so on']);
  });

  it('returns trimmed UTF-16 ranges that cover every non-space character once, in order', () => {
    const text = '  \u{1F600} Emoji first.  Ça va?\n\nOui. ';
    const spans = splitSentences(text);
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual(['\u{1F600} Emoji first.', 'Ça va?', 'Oui.']);
    expect(coverage(text, spans)).toBe(true);
    expect(splitSentences('   ')).toEqual([]);
    expect(splitSentences('')).toEqual([]);
  });

  it('splits SQuAD dev into a plausible number of sentences, covering every paragraph', async () => {
    let count = 0;
    let paragraphs = 0;
    for await (const { text } of readCorpus(join(requireShared(SQUAD_DEV), 'dev-v1.1.json'))) {
      paragraphs++;
      const spans = splitSentences(text);
      expect(coverage(text, spans)).toBe(true);
      count += spans.length;
    }
    // About 5 sentences a paragraph; the splitter found 11,627.
    expect(count).toBeGreaterThan(10_000);
    expect(count).toBeLessThan(13_000);
    expect(paragraphs).toBe(2067);
    console.log(`SQuAD dev: ${count} sentences in ${paragraphs} paragraphs`);
  });
});

/** In order, non-overlapping, trimmed, and every non-space character inside exactly one span. */
function coverage(text: string, spans: { start: number; end: number }[]): boolean {
  let prev = 0;
  const covered = new Uint8Array(text.length);
  for (const { start, end } of spans) {
    if (start < prev || end <= start || /\s/u.test(text[start]) || /\s/u.test(text[end - 1])) return false;
    covered.fill(1, start, end);
    prev = end;
  }
  for (let i = 0; i < text.length; i++) if (!covered[i] && !/\s/u.test(text[i])) return false;
  return true;
}
