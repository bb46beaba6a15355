import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCIFACT_DIR } from '../../../test/fixtures.ts';
import { InputError } from '../corpus/index.ts';
import { readQrels } from './index.ts';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'edgesearch-qrels-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('readQrels', () => {
  it('reads the BEIR SciFact test qrels, skipping the header', async () => {
    const qrels = await readQrels(join(SCIFACT_DIR, 'qrels', 'test.tsv'));
    expect(qrels.size).toBe(300);
    expect([...qrels.values()].reduce((n, m) => n + m.size, 0)).toBe(339);
    expect(qrels.get('1')?.get('31715818')).toBe(1);
  });

  it('reads TREC qrels with spaces or tabs and graded, negative and zero relevance', async () => {
    const path = await file('q.trec', '31_1 Q0 CAR_a 0\n31_1\t0\tMARCO_b\t4\n\n32_1 0 doc -1\n');
    const qrels = await readQrels(path);
    expect(qrels).toEqual(new Map([
      ['31_1', new Map([['CAR_a', 0], ['MARCO_b', 4]])],
      ['32_1', new Map([['doc', -1]])],
    ]));
  });

  it('reports malformed lines with file and line', async () => {
    const path = await file('bad.tsv', 'query-id\tcorpus-id\tscore\n1\td1\t1\n2\td2\n');
    const err = await readQrels(path).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(`${path}:3`);
    const rel = await file('rel.txt', '1 0 d1 1\n1 0 d2 high\n');
    const e2 = await readQrels(rel).catch((e) => e);
    expect([e2.line, e2.field]).toEqual([2, 'relevance']);
    const dup = await file('dup.txt', '1 0 d1 1\n1 0 d1 2\n');
    expect((await readQrels(dup).catch((e) => e)).line).toBe(2);
  });
});
