import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCIFACT_DIR } from '../../../test/fixtures.ts';
import { corpusFingerprint, detectCorpusFormat, readCorpus, InputError } from './index.ts';
import { collect, rejection, tempFiles, type TempFiles } from './test-helpers.ts';

let tmp: TempFiles;
beforeEach(() => (tmp = tempFiles()));
afterEach(() => tmp.remove());

describe('detectCorpusFormat', () => {
  it('recognises directories and extensions', async () => {
    expect(await detectCorpusFormat(SCIFACT_DIR)).toBe('beir');
    expect(await detectCorpusFormat(tmp.write('c.jsonl', ''))).toBe('beir');
    expect(await detectCorpusFormat(tmp.write('collection.tsv', ''))).toBe('tsv');
    expect(await detectCorpusFormat(tmp.write('articles.json', ''))).toBe('densephrases');
    expect(await detectCorpusFormat(tmp.dir)).toBe('tsv'); // holds collection.tsv now
  });

  it('rejects what it cannot recognise, naming the path', async () => {
    const csv = tmp.write('corpus.csv', '');
    expect((await rejection(detectCorpusFormat(csv))).file).toBe(csv);
    const emptyDir = join(tmp.dir, 'empty');
    mkdirSync(emptyDir);
    expect(await rejection(detectCorpusFormat(emptyDir))).toBeInstanceOf(InputError);
    const missing = await rejection(detectCorpusFormat(join(tmp.dir, 'missing.jsonl')));
    expect(missing).toBeInstanceOf(InputError);
  });

  it('reads a ColBERT-style directory through readCorpus', async () => {
    tmp.write('collection.tsv', '0\tpassage zero\n');
    expect(await collect(readCorpus(tmp.dir))).toEqual([{ id: '0', title: '', text: 'passage zero' }]);
  });
});

describe('corpusFingerprint', () => {
  it('identifies the file behind a directory and changes when it does', async () => {
    const file = tmp.write('corpus.jsonl', '{"_id":"a","text":"x"}\n');
    const before = await corpusFingerprint(tmp.dir);
    expect(before.path).toBe(file);
    expect(before.bytes).toBe(23);
    tmp.write('corpus.jsonl', '{"_id":"a","text":"xy"}\n');
    expect((await corpusFingerprint(file)).bytes).toBe(24);
  });
});
