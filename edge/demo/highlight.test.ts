import { describe, expect, it } from 'vitest';
import { highlightSegments, spanSegments, type Segment } from './highlight.ts';

const marked = (segments: Segment[]) => segments.filter((s) => s.match).map((s) => s.text);
const rejoined = (segments: Segment[]) => segments.map((s) => s.text).join('');

describe('highlightSegments', () => {
  it('returns segments that rejoin to the exact text', () => {
    const texts = ['Statins reduce the risk of dementia.', '  leading and trailing  ', 'statins', 'x statins y statins', '', '—αβγ— statin; (statins)!'];
    for (const text of texts) expect(rejoined(highlightSegments(text, 'statins dementia'))).toBe(text);
  });

  it('matches case-insensitively and marks whole words only', () => {
    const segments = highlightSegments('STATINS and Statins but not prostatins', 'statins');
    expect(segments).toEqual([
      { text: 'STATINS', match: true },
      { text: ' and ', match: false },
      { text: 'Statins', match: true },
      { text: ' but not prostatins', match: false },
    ]);
  });

  it('matches words sharing a crude stem', () => {
    expect(marked(highlightSegments('A statin was given.', 'statins'))).toEqual(['statin']);
    expect(marked(highlightSegments('Statins were given.', 'statin'))).toEqual(['Statins']);
    expect(marked(highlightSegments('It reduced risk; reducing it reduces it, and it may reduce it.', 'reduces'))).toEqual(['reduced', 'reducing', 'reduces', 'reduce']);
    expect(marked(highlightSegments('Rapidly growing cells', 'rapid growth'))).toEqual(['Rapidly']);
  });

  it('does not highlight stopwords or one-character terms', () => {
    const segments = highlightSegments('The effect of a drug on the heart is x.', 'the effect of a drug on the heart is x');
    expect(marked(segments)).toEqual(['effect', 'drug', 'heart']);
    expect(highlightSegments('the of and', 'the of and')).toEqual([{ text: 'the of and', match: false }]);
  });

  it('returns one plain segment when nothing matches', () => {
    expect(highlightSegments('Nothing relevant here.', 'statins')).toEqual([{ text: 'Nothing relevant here.', match: false }]);
    expect(highlightSegments('Nothing relevant here.', '')).toEqual([{ text: 'Nothing relevant here.', match: false }]);
    expect(highlightSegments('', 'statins')).toEqual([{ text: '', match: false }]);
  });

  it('handles Unicode letters and digits', () => {
    expect(marked(highlightSegments('Über die Blutgefäße: IL-6 und Ödeme', 'blutgefäße ödeme'))).toEqual(['Blutgefäße', 'Ödeme']);
    expect(marked(highlightSegments('Тест: белки и БЕЛКИ', 'белки'))).toEqual(['белки', 'БЕЛКИ']);
    expect(marked(highlightSegments('IL-6 and IL-10 levels', 'il 10'))).toEqual(['IL', 'IL', '10']);
  });

  it('still works from its source text alone, as the demo page inlines it', () => {
    // Compiled to JS as the bundler does; the function must not close over anything.
    const inlined = new Function(`return (${highlightSegments.toString()});`)() as typeof highlightSegments;
    const text = 'Statins reduced the risk; reduces (статины) Статины.';
    expect(inlined(text, 'statin reduce статины')).toEqual(highlightSegments(text, 'statin reduce статины'));
    expect(marked(inlined(text, 'statin reduce статины'))).toEqual(['Statins', 'reduced', 'reduces', 'статины', 'Статины']);
  });
});

describe('spanSegments', () => {
  const text = 'The answer is <b>Paris</b>, the capital.';
  const span = (start: number, end: number) => ({ start, end, text: text.slice(start, end) });

  it('marks exactly the span, and the segments rejoin to the text', () => {
    const at = text.indexOf('<b>Paris</b>');
    const segments = spanSegments(text, span(at, at + '<b>Paris</b>'.length))!;
    expect(segments).toEqual([
      { text: 'The answer is ', match: false },
      { text: '<b>Paris</b>', match: true },
      { text: ', the capital.', match: false },
    ]);
    expect(rejoined(segments)).toBe(text);
    expect(spanSegments(text, span(0, 3))).toEqual([{ text: 'The', match: true }, { text: text.slice(3), match: false }]);
    expect(spanSegments(text, span(0, text.length))).toEqual([{ text, match: true }]);
  });

  it('counts offsets in UTF-16 code units, as the API does', () => {
    const t = '😀 statins 😀';
    expect(marked(spanSegments(t, { start: 3, end: 10, text: 'statins' })!)).toEqual(['statins']);
  });

  it('refuses a span outside the text, empty, or not what its offsets cut out', () => {
    expect(spanSegments(text, { start: 4, end: 10, text: 'Answer' })).toBeUndefined();
    expect(spanSegments(text, { start: 30, end: 80, text: 'capital.' })).toBeUndefined();
    expect(spanSegments(text, { start: -1, end: 3, text: 'The' })).toBeUndefined();
    expect(spanSegments(text, { start: 3, end: 3, text: '' })).toBeUndefined();
    expect(spanSegments(text, { start: 0.5, end: 3, text: 'The' })).toBeUndefined();
  });

  it('still works from its source text alone, as the demo page inlines it', () => {
    const inlined = new Function(`return (${spanSegments.toString()});`)() as typeof spanSegments;
    expect(inlined(text, span(4, 10))).toEqual(spanSegments(text, span(4, 10)));
    expect(inlined(text, { start: 4, end: 10, text: 'x' })).toBeUndefined();
  });
});
