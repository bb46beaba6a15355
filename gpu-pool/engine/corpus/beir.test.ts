import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCIFACT_DIR } from '../../../test/fixtures.ts';
import { readCorpus, readQueries, InputError } from './index.ts';
import { collect, rejection, tempFiles, type TempFiles } from './test-helpers.ts';

let tmp: TempFiles;
beforeEach(() => (tmp = tempFiles()));
afterEach(() => tmp.remove());

const line = (o: unknown) => JSON.stringify(o);

describe('BEIR corpus', () => {
  it('reads the first SciFact documents from the directory', async () => {
    const docs = await collect(readCorpus(SCIFACT_DIR), 3);
    expect(docs).toHaveLength(3);
    expect(docs[0].id).toBe('4983');
    expect(docs[0].title).toMatch(/^Microstructural development of human newborn cerebral white matter/);
    expect(docs[0].text.length).toBeGreaterThan(100);
    expect(new Set(docs.map((d) => d.id)).size).toBe(3);
  });

  it('reads the SciFact test queries', async () => {
    const queries = await collect(readQueries(join(SCIFACT_DIR, 'queries.test.jsonl')));
    expect(queries).toHaveLength(300);
    expect(queries[0]).toEqual({ id: '1', text: '0-dimensional biomaterials show inductive properties.' });
  });

  it('skips blank lines, keeps physical line numbers, and defaults a missing title', async () => {
    const file = tmp.write('c.jsonl', `${line({ _id: 'a', title: 'T', text: 'x' })}\n\n  \n${line({ _id: 'b', text: 'y' })}\n{oops\n`);
    const docs: unknown[] = [];
    const err = await rejection((async () => { for await (const d of readCorpus(file)) docs.push(d); })());
    expect(docs).toEqual([{ id: 'a', title: 'T', text: 'x' }, { id: 'b', title: '', text: 'y' }]);
    expect(err).toBeInstanceOf(InputError);
    expect(err.line).toBe(5);
    expect(err.message).toContain(`${file}:5`);
    expect(err.message).toContain('malformed JSON');
  });

  it('names the _id field when it is missing or not a string', async () => {
    const missing = tmp.write('m.jsonl', `${line({ _id: 'a', text: 'x' })}\n${line({ title: 't', text: 'y' })}\n`);
    const e1 = await rejection(collect(readCorpus(missing)));
    expect([e1.line, e1.field]).toEqual([2, '_id']);
    const numeric = tmp.write('n.jsonl', `${line({ _id: 7, text: 'y' })}\n`);
    const e2 = await rejection(collect(readCorpus(numeric)));
    expect([e2.line, e2.field]).toEqual([1, '_id']);
    expect(e2.message).toContain('"_id"');
  });

  it('rejects a duplicate id at the line of the second occurrence', async () => {
    const file = tmp.write('d.jsonl', [line({ _id: 'a', text: 'x' }), line({ _id: 'b', text: 'x' }), line({ _id: 'a', text: 'z' })].join('\n'));
    const err = await rejection(collect(readCorpus(file)));
    expect([err.line, err.field]).toEqual([3, '_id']);
    expect(err.message).toContain('duplicate');
  });

  it('reports a non-UTF-8 line', async () => {
    const file = tmp.write('u.jsonl', Buffer.concat([Buffer.from(`${line({ _id: 'a', text: 'x' })}\n{"_id":"b","text":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]));
    const err = await rejection(collect(readCorpus(file)));
    expect(err).toBeInstanceOf(InputError);
    expect(err.line).toBe(2);
  });

  it('yields nothing for an empty corpus file', async () => {
    expect(await collect(readCorpus(tmp.write('e.jsonl', '')))).toEqual([]);
  });
});
