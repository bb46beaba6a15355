import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DENSEPHRASES_SAMPLE, SHARED_DIR, SQUAD_DEV, requireShared } from '../../../test/fixtures.ts';
import { InputError, readCorpus } from './index.ts';
import { parsePythonStringList, readOpenQa, readSquadQa } from './qa.ts';
import { collect, rejection, tempFiles, type TempFiles } from './test-helpers.ts';

let tmp: TempFiles;
beforeEach(() => (tmp = tempFiles()));
afterEach(() => tmp.remove());

const squad = (paragraphs: unknown[], title = 'T') => JSON.stringify({ version: '1.1', data: [{ title, paragraphs }] });

describe('readSquadQa', () => {
  it('reads every question of SQuAD dev with its paragraph, under the corpus reader’s doc id', async () => {
    const file = join(requireShared(SQUAD_DEV), 'dev-v1.1.json');
    const qas = await readSquadQa(file);
    expect(qas).toHaveLength(10570);
    expect(new Set(qas.map((q) => q.article)).size).toBe(48);
    expect(qas[0]).toMatchObject({ id: '56be4db0acb8001400a502ec', question: 'Which NFL team represented the AFC at Super Bowl 50?', article: 0, paragraph: 0, docId: '0_0', title: 'Super_Bowl_50' });
    expect(qas[0].answers[0]).toEqual({ text: 'Denver Broncos', charStart: 177 });
    // Same paragraphs, same ids, as readCorpus: QA rows can be joined to an index built from the file.
    const docs = new Map((await collect(readCorpus(file))).map((d) => [d.id, d]));
    expect(new Set(qas.map((q) => q.docId)).size).toBe(2067);
    for (const q of qas) {
      const doc = docs.get(q.docId)!;
      expect(doc.text).toBe(q.context);
      expect(doc.title).toBe(q.title);
      for (const a of q.answers) expect(q.context.slice(a.charStart, a.charStart + a.text.length)).toBe(a.text);
    }
  });

  it('names the answer, its question and what the context has when answer_start is wrong', async () => {
    const file = tmp.write('bad.json', squad([
      { context: 'Nothing here.', qas: [] },
      { context: 'Paris is the capital of France.', qas: [{ id: 'q7', question: 'Capital?', answers: [{ text: 'Paris', answer_start: 0 }, { text: 'France', answer_start: 23 }] }] },
    ]));
    const err = await rejection(readSquadQa(file));
    expect(err).toBeInstanceOf(InputError);
    expect(err.field).toBe('data[0].paragraphs[1].qas[0].answers[1].answer_start');
    expect(err.message).toContain(file);
    expect(err.message).toContain('"q7"');
    expect(err.message).toContain('" Franc"'); // the 6 characters at 23 (France starts at 24)
  });

  it('reports an answer_start past the end of the context', async () => {
    const file = tmp.write('far.json', squad([{ context: 'short', qas: [{ id: 'x', question: '?', answers: [{ text: 'short', answer_start: 9 }] }] }]));
    const err = await rejection(readSquadQa(file));
    expect(err.field).toBe('data[0].paragraphs[0].qas[0].answers[0].answer_start');
    expect(err.message).toContain('only 5 characters');
  });

  it('converts answer_start from code points (Python) to UTF-16 offsets', async () => {
    const context = '\u{1F3C8} Super Bowl 50 \u{1F3C6} Denver won.';
    const start = [...context].indexOf('D'); // 18 code points, 20 UTF-16 units
    const file = tmp.write('astral.json', squad([{ context, qas: [{ id: 1, question: 'Who?', answers: [{ text: 'Denver', answer_start: start }] }] }]));
    const [qa] = await readSquadQa(file);
    expect(qa.id).toBe('1');
    expect(qa.answers[0].charStart).toBe(start + 2);
    expect(context.slice(qa.answers[0].charStart, qa.answers[0].charStart + 6)).toBe('Denver');
  });

  it('names a missing field by its JSON path and rejects duplicate ids', async () => {
    const missing = tmp.write('missing.json', squad([{ context: 'c', qas: [{ id: 'a', answers: [] }] }]));
    expect((await rejection(readSquadQa(missing))).field).toBe('data[0].paragraphs[0].qas[0].question');
    const dup = tmp.write('dup.json', squad([{ context: 'c', qas: [{ id: 'a', question: '?', answers: [] }, { id: 'a', question: '?', answers: [] }] }]));
    const err = await rejection(readSquadQa(dup));
    expect(err.field).toBe('data[0].paragraphs[0].qas[1].id');
    expect(err.message).toContain('duplicate id "a"');
  });
});

describe('readOpenQa', () => {
  const data = join(SHARED_DIR, 'data');

  it('reads NQ-open JSON lines, numbering questions by line', async () => {
    const qs = await readOpenQa(requireShared(join(data, 'nq-open', 'NQ-open.dev.jsonl')));
    expect(qs).toHaveLength(3610);
    expect(qs[0]).toEqual({ id: '1', question: 'when was the last time anyone was on the moon', answers: ['14 December 1972 UTC', 'December 1972'] });
    expect(qs[3609].id).toBe('3610');
  });

  it('reads DensePhrases questions.json with its ids', async () => {
    const qs = await readOpenQa(join(requireShared(DENSEPHRASES_SAMPLE), 'questions.json'));
    expect(qs.map((q) => q.id)).toEqual(['1', '2', '3']);
    expect(qs[0].answers).toEqual(['Kevin Skinner', 'Country singer Kevin Skinner']);
  });

  it('reads the DPR TriviaQA TSV as csv.reader + ast.literal_eval do', async () => {
    const qs = await readOpenQa(requireShared(join(data, 'dpr-qa-test-sets', 'topics.dpr.trivia.test.txt')));
    expect(qs).toHaveLength(11313);
    expect(qs.reduce((n, q) => n + q.answers.length, 0)).toBe(158681); // PROVENANCE.md's count
    expect(qs[0]).toEqual({ id: '1', question: 'Who was the man behind The Chipmunks?', answers: ['David Seville'] });
    // Line 24: both columns CSV-quoted; "" inside is one quote, and the list mixes '…' and "…" strings.
    expect(qs[23].question).toBe('"Who was the target of the failed ""Bomb Plot"" of 1944?"');
    expect(qs[23].answers).toContain("Hitler's medical health");
    expect(qs[23].answers).toContain('Hitler, Adolph');
    // Python escapes in the list: \x83 and \uf8ff.
    expect(qs.find((q) => q.question.startsWith('The Grand Prix circuit of Interlagos'))!.answers).toEqual(['SÄ\x83o Paulo']);
    expect(qs.find((q) => q.question.startsWith('‘Think Different’'))!.answers).toContain('\uf8ff Inc');
  });

  it('keeps CuratedTREC answers as the regular expressions they are', async () => {
    const qs = await readOpenQa(requireShared(join(data, 'dpr-qa-test-sets', 'topics.dpr.curated.test.txt')));
    expect(qs).toHaveLength(694);
    expect(qs[1].answers).toEqual(['After the Fall|Finishing the Play']);
    expect(new RegExp(qs[0].answers[0]).test('20,320 feet')).toBe(true);
  });

  it('accepts "answers" and ids in JSON lines, skipping blank lines', async () => {
    const file = tmp.write('q.jsonl', '{"id": 7, "question": "a?", "answers": ["x"]}\n\n{"question": "b?", "answer": []}\n');
    expect(await readOpenQa(file)).toEqual([
      { id: '7', question: 'a?', answers: ['x'] },
      { id: '3', question: 'b?', answers: [] },
    ]);
  });

  it('reports bad JSON lines with their line', async () => {
    const cases: [string, number, string | undefined][] = [
      ['{"question": "a", "answer": ["x"]}\n{"question": "b"}\n', 2, 'answers'],
      ['{"question": "a", "answer": ["x"]}\n{"question": "b", "answer": "x"}\n', 2, 'answer'],
      ['{"question": "a", "answer": ["x"], "answers": ["y"]}\n', 1, 'answers'],
      ['{"question": "a", "answer": ["x"]}\n\n{"question": "b", \n', 3, undefined],
    ];
    for (const [i, [text, line, field]] of cases.entries()) {
      const err = await rejection(readOpenQa(tmp.write(`bad${i}.jsonl`, text)));
      expect(err, text).toBeInstanceOf(InputError);
      expect(err.line, text).toBe(line);
      expect(err.field, text).toBe(field);
    }
    // A given id may not take a line number already used as an id.
    const clash = tmp.write('clash.jsonl', '{"question": "a", "answer": ["x"]}\n{"id": "1", "question": "b", "answer": ["y"]}\n');
    const err = await rejection(readOpenQa(clash));
    expect(err.line).toBe(2);
    expect(err.message).toContain('duplicate id "1"');
  });

  it('reports bad DPR TSV lines with their line', async () => {
    const cases: [string, number, string][] = [
      ["q1\t['a']\nq2\t['b', c]\n", 2, 'answers'],
      ["q1\t['a']\nno tab here\n", 2, '2 tab-separated columns'],
      ["q1\t['a']\n\"open quote\t['b']\n", 2, 'unterminated'],
      ["q1\t['a'] extra\n", 1, 'after "]"'],
      ["q1\t['a\n", 1, 'unterminated string'],
    ];
    for (const [i, [text, line, message]] of cases.entries()) {
      const err = await rejection(readOpenQa(tmp.write(`bad${i}.txt`, text)));
      expect(err, text).toBeInstanceOf(InputError);
      expect(err.line, text).toBe(line);
      expect(err.message, text).toContain(message);
    }
  });

  it('names the bad element of a questions.json and returns nothing for an empty file', async () => {
    const file = tmp.write('q.json', '{\n "data": [\n  {"id": "1", "question": "a", "answers": ["x"]},\n  {"id": "2", "question": "b"}\n ]\n}\n');
    expect((await rejection(readOpenQa(file))).field).toBe('data[1].answers');
    expect(await readOpenQa(tmp.write('empty.jsonl', '\n\n'))).toEqual([]);
  });
});

describe('parsePythonStringList', () => {
  it('reads both quote styles, escapes and a trailing comma', () => {
    expect(parsePythonStringList(`[ 'a\\'b', "c'd", 'e\\\\f', '\\x41\\u00e9\\U0001F600\\101\\0', 'g\\qh', ]`)).toEqual([
      "a'b", "c'd", 'e\\f', 'Aé\u{1F600}A\0', 'g\\qh',
    ]);
    expect(parsePythonStringList('[]')).toEqual([]);
  });

  it('rejects what ast.literal_eval would not read as a list of strings', () => {
    for (const bad of ["'a'", "['a',, 'b']", '[1]', "['a'", "['\\x4']", "['a'] x"]) {
      expect(() => parsePythonStringList(bad), bad).toThrow(/not a Python list of strings/);
    }
  });
});
