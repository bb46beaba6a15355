import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DENSEPHRASES_SAMPLE, SQUAD_DEV } from '../../../test/fixtures.ts';
import { readCorpus, readQueries, InputError } from './index.ts';
import { collect, rejection, tempFiles, type TempFiles } from './test-helpers.ts';

let tmp: TempFiles;
beforeEach(() => (tmp = tempFiles()));
afterEach(() => tmp.remove());

describe('DensePhrases / SQuAD JSON corpus', () => {
  it('reads every paragraph of the DensePhrases sample with article_paragraph ids', async () => {
    const docs = await collect(readCorpus(join(DENSEPHRASES_SAMPLE, 'articles.json')));
    expect(docs).toHaveLength(112); // 11 + 79 + 11 + 11 paragraphs (PROVENANCE.md)
    expect(docs[0]).toMatchObject({ id: '0_0', title: "America's Got Talent (season 4)" });
    expect(docs[0].text).toContain('The fourth season of "America\'s Got Talent"');
    expect(docs[10].id).toBe('0_10');
    expect(docs[11]).toMatchObject({ id: '1_0', title: 'Cristiano Ronaldo' });
  });

  it('streams the first articles of SQuAD dev (paragraphs with qas)', async () => {
    const docs = await collect(readCorpus(join(SQUAD_DEV, 'dev-v1.1.json')), 60);
    expect(docs[0]).toMatchObject({ id: '0_0', title: 'Super_Bowl_50' });
    expect(docs[0].text).toMatch(/^Super Bowl 50 was an American football game/);
    expect(docs[54]).toMatchObject({ id: '1_0', title: 'Warsaw' }); // Super_Bowl_50 has 54 paragraphs
  });

  it('reads questions in both the DensePhrases and the SQuAD layout', async () => {
    const flat = await collect(readQueries(join(DENSEPHRASES_SAMPLE, 'questions.json')));
    expect(flat).toHaveLength(3);
    expect(flat[0]).toEqual({ id: '1', text: "who won season 4 of america's got talent" });
    const nested = await collect(readQueries(join(SQUAD_DEV, 'dev-v1.1.json')), 2);
    expect(nested[0]).toEqual({ id: '56be4db0acb8001400a502ec', text: 'Which NFL team represented the AFC at Super Bowl 50?' });
  });

  it('reports a JSON syntax error with its line', async () => {
    const text = ['{', '  "data": [', '    {"title": "A", "paragraphs": [{"context": "x"}]},', '    {"title": "B", "paragraphs": [{"context" "y"}]}', '  ]', '}'].join('\n');
    const file = tmp.write('broken.json', text);
    const docs: unknown[] = [];
    const err = await rejection((async () => { for await (const d of readCorpus(file)) docs.push(d); })());
    expect(docs).toHaveLength(1); // the first article came through before the error
    expect(err).toBeInstanceOf(InputError);
    expect(err.line).toBe(4);
    expect(err.message).toContain(`${file}:4`);
  });

  it('reports a file that ends inside the JSON', async () => {
    const file = tmp.write('cut.json', '{"data": [\n  {"title": "A", "paragraphs": [{"context": "x"}]},\n');
    const err = await rejection(collect(readCorpus(file)));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain('unexpected end of file');
  });

  it('reports invalid UTF-8 with its line', async () => {
    const file = tmp.write('bytes.json', Buffer.concat([Buffer.from('{"data": [\n{"title": "A", "paragraphs": [{"context": "'), Buffer.from([0xff]), Buffer.from('"}]}\n]}\n')]));
    const err = await rejection(collect(readCorpus(file)));
    expect(err).toBeInstanceOf(InputError);
    expect(err.line).toBe(2);
    expect(err.message).toContain('UTF-8');
  });

  it('names a missing field by its JSON path', async () => {
    const file = tmp.write('f.json', JSON.stringify({ data: [{ title: 'A', paragraphs: [{ context: 'x' }, { text: 'y' }] }] }));
    const err = await rejection(collect(readCorpus(file)));
    expect(err.field).toBe('data[0].paragraphs[1].context');
  });

  it('yields nothing for an empty data array but rejects a file without one', async () => {
    expect(await collect(readCorpus(tmp.write('empty.json', '{"data": [], "version": "1.1"}')))).toEqual([]);
    const err = await rejection(collect(readCorpus(tmp.write('none.json', '{"articles": []}'))));
    expect(err).toBeInstanceOf(InputError);
    expect(err.field).toBe('data');
    const notArray = await rejection(collect(readCorpus(tmp.write('obj.json', '{"data": {"title": "A"}}'))));
    expect(notArray.field).toBe('data');
  });
});
