import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../corpus/index.ts';
import { readTrecRun, writeTrecRun, type Run } from './index.ts';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'edgesearch-run-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('TREC run files', () => {
  it('writes trec_eval order with ranks from 1 and reads back the same run', async () => {
    const run: Run = new Map([
      ['q1', [{ docId: 'a', score: 0.5 }, { docId: 'b', score: 2.25 }, { docId: 'c', score: 0.5 }]],
      ['q2', [{ docId: 'z', score: 0.1 + 0.2 }]],
    ]);
    const path = join(dir, 'run.trec');
    await writeTrecRun(run, path, 'bm25');
    expect(await readFile(path, 'utf8')).toBe(
      'q1 Q0 b 1 2.25 bm25\nq1 Q0 c 2 0.5 bm25\nq1 Q0 a 3 0.5 bm25\nq2 Q0 z 1 0.30000000000000004 bm25\n',
    );
    const back = await readTrecRun(path);
    expect(back.get('q1')).toEqual([{ docId: 'b', score: 2.25 }, { docId: 'c', score: 0.5 }, { docId: 'a', score: 0.5 }]);
    expect(back.get('q2')).toEqual([{ docId: 'z', score: 0.1 + 0.2 }]);
  });

  it('refuses ids that would break the line format', async () => {
    await expect(writeTrecRun(new Map([['q 1', []]]), join(dir, 'x'))).rejects.toThrow(/whitespace/);
    await expect(writeTrecRun(new Map([['q', [{ docId: 'a b', score: 1 }]]]), join(dir, 'y'))).rejects.toThrow(/whitespace/);
  });

  it('reports malformed run lines with file and line', async () => {
    const path = join(dir, 'bad.trec');
    await writeFile(path, 'q1 Q0 a 1 3.5 tag\nq1 Q0 b 2 high tag\n');
    const err = await readTrecRun(path).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect([err.line, err.field]).toEqual([2, 'score']);
    await writeFile(path, 'q1 Q0 a 1\n');
    expect((await readTrecRun(path).catch((e) => e)).line).toBe(1);
  });
});
