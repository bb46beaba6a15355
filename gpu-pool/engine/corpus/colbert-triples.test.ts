import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, detectCorpusFormat, readCorpus, readQueries, readTriples } from './index.ts';
import { collect, rejection, tempFiles, type TempFiles } from './test-helpers.ts';

let tmp: TempFiles;
beforeEach(() => (tmp = tempFiles()));
afterEach(() => tmp.remove());

describe('ColBERT triples', () => {
  it('reads qid/pid+/pid- lines with their line numbers, skipping blank lines, CRLF or not', async () => {
    const file = tmp.write('triples.tsv', '1\t10\t11\r\n\n2\t20\t21\n');
    expect(await collect(readTriples(file))).toEqual([
      { qid: '1', positive: '10', negative: '11', line: 1 },
      { qid: '2', positive: '20', negative: '21', line: 3 },
    ]);
  });

  it('names file and line of a malformed triple', async () => {
    const two = tmp.write('two.tsv', '1\t10\t11\n2\t20\n');
    const e1 = await rejection(collect(readTriples(two)));
    expect(e1).toBeInstanceOf(InputError);
    expect(e1.message).toContain(`${two}:2`);
    expect(e1.message).toContain('found 2 fields');
    const empty = tmp.write('empty.tsv', '1\t\t11\n');
    const e2 = await rejection(collect(readTriples(empty)));
    expect([e2.line, e2.field]).toEqual([1, 'positive pid']);
    const same = tmp.write('same.tsv', '1\t10\t10\n');
    expect((await rejection(collect(readTriples(same)))).message).toContain('both the positive and the negative');
    // Passage texts in the triples (MS MARCO's text form) are not ids: four or more fields, or
    // three where the texts happen to be short, are the caller's to notice through unknown ids.
    const texts = tmp.write('texts.tsv', 'what is x\tx is a letter\ty is too\tmore\n');
    expect((await rejection(collect(readTriples(texts)))).message).toContain('found 4 fields');
  });

  it('goes with the collection and queries readers of the same layout', async () => {
    const dir = tmp.dir;
    tmp.write('collection.tsv', '0\tfirst passage\n1\tsecond passage\tTitle\n');
    const queries = tmp.write('queries.tsv', '7\twhich passage\n');
    expect(await detectCorpusFormat(dir)).toBe('tsv');
    expect((await collect(readCorpus(dir))).map((d) => d.id)).toEqual(['0', '1']);
    expect(await collect(readQueries(queries))).toEqual([{ id: '7', text: 'which passage' }]);
  });
});
