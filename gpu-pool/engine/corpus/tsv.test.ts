import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCorpus, readQueries, InputError } from './index.ts';
import { collect, rejection, tempFiles, type TempFiles } from './test-helpers.ts';

let tmp: TempFiles;
beforeEach(() => (tmp = tempFiles()));
afterEach(() => tmp.remove());

describe('TSV corpus', () => {
  it('reads pid/text and pid/text/title rows, with CRLF endings', async () => {
    const file = tmp.write('collection.tsv', '0\tfirst passage\r\n1\tsecond passage\tA Title\r\n');
    expect(await collect(readCorpus(file))).toEqual([
      { id: '0', title: '', text: 'first passage' },
      { id: '1', title: 'A Title', text: 'second passage' },
    ]);
  });

  it('skips a DPR-style header line but not a data line that happens to come first', async () => {
    const withHeader = tmp.write('h.tsv', 'id\ttext\ttitle\n1\tp\tt\n');
    expect((await collect(readCorpus(withHeader))).map((d) => d.id)).toEqual(['1']);
    const without = tmp.write('n.tsv', '7\ttext\n');
    expect((await collect(readCorpus(without))).map((d) => d.id)).toEqual(['7']);
  });

  it('reports a row with the wrong number of columns, and duplicate ids', async () => {
    const bad = tmp.write('bad.tsv', '1\tok\n2 no tab here\n');
    const e1 = await rejection(collect(readCorpus(bad)));
    expect(e1).toBeInstanceOf(InputError);
    expect(e1.line).toBe(2);
    expect(e1.message).toContain(`${bad}:2`);
    const dup = tmp.write('dup.tsv', '1\ta\n1\tb\n');
    const e2 = await rejection(collect(readCorpus(dup)));
    expect([e2.line, e2.field]).toEqual([2, 'id']);
  });

  it('reads qid<TAB>text queries, keeping tabs inside the text', async () => {
    const file = tmp.write('queries.tsv', '11\twhat is bm25\n12\ta\tb\n');
    expect(await collect(readQueries(file))).toEqual([
      { id: '11', text: 'what is bm25' },
      { id: '12', text: 'a\tb' },
    ]);
    const bad = tmp.write('q.tsv', 'no-tab\n');
    expect((await rejection(collect(readQueries(bad)))).line).toBe(1);
  });
});
