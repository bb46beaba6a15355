import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from './errors.ts';
import { readLines, readPieces } from './lines.ts';
import { collect, rejection, tempFiles, type TempFiles } from './test-helpers.ts';

let tmp: TempFiles;
beforeEach(() => (tmp = tempFiles()));
afterEach(() => tmp.remove());

describe('readLines', () => {
  it('strips LF and CRLF, numbers lines from 1 and keeps a last line without a line feed', async () => {
    const file = tmp.write('a.txt', 'one\r\ntwo\n\nfour');
    expect(await collect(readLines(file))).toEqual([
      { text: 'one', line: 1 },
      { text: 'two', line: 2 },
      { text: '', line: 3 },
      { text: 'four', line: 4 },
    ]);
  });

  it('yields nothing for an empty file and no phantom line after a final line feed', async () => {
    expect(await collect(readLines(tmp.write('empty.txt', '')))).toEqual([]);
    expect(await collect(readLines(tmp.write('one.txt', 'x\n')))).toEqual([{ text: 'x', line: 1 }]);
  });

  it('joins a line longer than a read chunk, including a character split across chunks', async () => {
    // One ASCII byte first, so the 64 KiB chunk boundary falls inside a two-byte "é".
    const long = 'a' + 'é'.repeat(100_000);
    const file = tmp.write('long.txt', `${long}\nafter\n`);
    const lines = await collect(readLines(file));
    expect(lines.map((l) => l.text.length)).toEqual([long.length, 5]);
    expect(lines[0].text).toBe(long);
    expect(lines[1]).toEqual({ text: 'after', line: 2 });
  });

  it('reports invalid UTF-8 with the file and line', async () => {
    const bytes = Buffer.concat([Buffer.from('fine\nstill fine\nbad '), Buffer.from([0xff, 0xfe]), Buffer.from(' bytes\n')]);
    const file = tmp.write('bad.txt', bytes);
    const err = await rejection(collect(readLines(file)));
    expect(err).toBeInstanceOf(InputError);
    expect(err.file).toBe(file);
    expect(err.line).toBe(3);
    expect(err.message).toContain(`${file}:3`);
    expect(err.message).toContain('UTF-8');
  });

  it('turns a missing file into an InputError naming it', async () => {
    const missing = `${tmp.dir}/nope.txt`;
    const err = await rejection(collect(readLines(missing)));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(missing);
    expect(err.message).toContain('ENOENT');
  });
});

describe('readPieces', () => {
  it('never yields more than one chunk of bytes at a time', async () => {
    const file = tmp.write('p.txt', 'x'.repeat(1000) + '\nshort\n');
    const pieces = await collect(readPieces(file, 256));
    expect(Math.max(...pieces.map((p) => p.bytes.length))).toBeLessThanOrEqual(256);
    expect(pieces.filter((p) => p.endsLine).map((p) => p.line)).toEqual([1, 2]);
  });
});
