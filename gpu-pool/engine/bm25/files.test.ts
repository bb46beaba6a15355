import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bm25Builder, Bm25FormatError, Bm25Index, BM25_FILES } from './index.ts';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'edgesearch-bm25-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

const TEXTS = ['cells divide by mitosis', 'mitosis and meiosis in germ cells', 'protein folding', 'Zellteilung der Zellen', ''];

async function written(): Promise<Bm25Index> {
  const b = new Bm25Builder();
  TEXTS.forEach((t, i) => b.add(i, t));
  const index = b.build();
  await index.write(dir);
  return index;
}

describe('Bm25Index persistence', () => {
  it('round-trips: same counts, statistics and search results', async () => {
    const original = await written();
    const loaded = await Bm25Index.read(dir);
    expect([loaded.docCount, loaded.termCount, loaded.postingCount]).toEqual([original.docCount, original.termCount, original.postingCount]);
    expect(loaded.termStats()).toEqual(original.termStats());
    for (const q of ['mitosis cells', 'protein', 'zellen', 'nothing here']) {
      const a = original.search(q, 10);
      const b = loaded.search(q, 10);
      expect([...b.ordinals]).toEqual([...a.ordinals]);
      expect([...b.scores]).toEqual([...a.scores]);
    }
    expect(loaded.search('mitosis', 10).ordinals.length).toBe(2);
  });

  it('writes exactly the files it reports, all prefixed bm25.', async () => {
    const b = new Bm25Builder();
    b.add(0, 'x');
    const names = await b.build().write(dir);
    expect(names.sort()).toEqual(Object.values(BM25_FILES).sort());
    expect((await readdir(dir)).sort()).toEqual(names);
  });

  it('reads an empty index', async () => {
    await new Bm25Builder().build().write(dir);
    const loaded = await Bm25Index.read(dir);
    expect([loaded.docCount, loaded.termCount]).toEqual([0, 0]);
    expect(loaded.search('anything', 10).ordinals.length).toBe(0);
  });

  it('rejects a truncated postings file, naming it', async () => {
    await written();
    const docs = join(dir, BM25_FILES.docs);
    await truncate(docs, 6);
    const err = await Bm25Index.read(dir).catch((e) => e);
    expect(err).toBeInstanceOf(Bm25FormatError);
    expect(err.message).toContain(docs);
    expect(err.message).toMatch(/truncated: 6 bytes/);
  });

  it('rejects a missing file, another format version and another analyzer', async () => {
    await written();
    const headerPath = join(dir, BM25_FILES.header);
    const header = JSON.parse(await readFile(headerPath, 'utf8'));

    await writeFile(headerPath, JSON.stringify({ ...header, version: 99 }));
    await expect(Bm25Index.read(dir)).rejects.toThrow(/version/);
    await writeFile(headerPath, JSON.stringify({ ...header, analyzer: 'other/1' }));
    await expect(Bm25Index.read(dir)).rejects.toThrow(/rebuild the index/);
    await writeFile(headerPath, JSON.stringify(header));
    await rm(join(dir, BM25_FILES.tfs));
    await expect(Bm25Index.read(dir)).rejects.toThrow(Bm25FormatError);
  });

  it('rejects postings that point past the last document', async () => {
    await written();
    const docs = new Uint32Array((await readFile(join(dir, BM25_FILES.docs))).buffer.slice(0));
    docs[0] = 1000;
    await writeFile(join(dir, BM25_FILES.docs), new Uint8Array(docs.buffer));
    await expect(Bm25Index.read(dir)).rejects.toThrow(/names document 1000/);
  });
});
