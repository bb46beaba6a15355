import { z } from 'zod';
import { InputError } from './errors.ts';
import { readJsonDataArray } from './json-data-array.ts';
import { readLines } from './lines.ts';
import { IdSet, parseJsonLine, parseRecord } from './records.ts';

// Question answering sets: questions with their gold answers, for phrase retrieval evaluation.

/** A SQuAD question with its paragraph and the positions of its answers there. */
export interface SquadQa {
  id: string;
  question: string;
  /** `charStart` is a UTF-16 offset into `context` (SQuAD's answer_start counts code points). */
  answers: { text: string; charStart: number }[];
  /** 0-based article index, in file order. */
  article: number;
  title: string;
  /** 0-based paragraph index within the article. */
  paragraph: number;
  /** `${article}_${paragraph}`: the id readSquadCorpus gives this paragraph. */
  docId: string;
  context: string;
}

const SquadArticle = z.object({
  title: z.string(),
  paragraphs: z.array(
    z.object({
      context: z.string(),
      qas: z.array(
        z.object({
          id: z.union([z.string(), z.number()]),
          question: z.string(),
          answers: z.array(z.object({ text: z.string(), answer_start: z.number().int().nonnegative() })),
        }),
      ),
    }),
  ),
});

/**
 * Every question of a SQuAD v1.1 file, in file order. Each answer must be where it says it is
 * (`context` at answer_start reads `text`): a wrong offset would silently corrupt span training
 * and evaluation, so it is an InputError naming the answer's JSON path and question id.
 */
export async function readSquadQa(file: string): Promise<SquadQa[]> {
  const out: SquadQa[] = [];
  const ids = new Set<string>();
  for await (const { index: a, value } of readJsonDataArray(file)) {
    const parsed = SquadArticle.safeParse(value);
    if (!parsed.success) throw pathError(file, `data[${a}]`, parsed.error);
    const { title, paragraphs } = parsed.data;
    paragraphs.forEach(({ context, qas }, p) => {
      const toUtf16 = codePointToUtf16(context);
      qas.forEach((qa, q) => {
        const id = String(qa.id);
        const path = `data[${a}].paragraphs[${p}].qas[${q}]`;
        addUnique(ids, id, file, `${path}.id`);
        const answers = qa.answers.map(({ text, answer_start }, i) => {
          const charStart = toUtf16(answer_start);
          if (charStart === undefined || context.slice(charStart, charStart + text.length) !== text) {
            const there = charStart === undefined
              ? `the context is only ${[...context].length} characters long`
              : `the context has ${JSON.stringify(context.slice(charStart, charStart + text.length))} there`;
            throw new InputError(`question ${JSON.stringify(id)}: answer ${JSON.stringify(text)} is not at ${answer_start}: ${there}`, {
              file,
              field: `${path}.answers[${i}].answer_start`,
            });
          }
          return { text, charStart };
        });
        out.push({ id, question: qa.question, answers, article: a, title, paragraph: p, docId: `${a}_${p}`, context });
      });
    });
  }
  return out;
}

/** An open-domain question: answers are strings to match, with no positions. */
export interface OpenQa {
  id: string;
  question: string;
  answers: string[];
}

const Answers = z.array(z.string());
const JsonlQa = z
  .object({ id: z.union([z.string(), z.number()]).optional(), question: z.string(), answer: Answers.optional(), answers: Answers.optional() })
  .refine((r) => (r.answer === undefined) !== (r.answers === undefined), { message: 'expected exactly one of "answer" and "answers" (a list of strings)', path: ['answers'] });
const DataQa = z.object({ id: z.union([z.string(), z.number()]), question: z.string(), answers: Answers });

/**
 * Open-domain QA questions and answers. The layout is told from the first non-blank line:
 * - JSON lines `{"question", "answer": [...]}` or `{..., "answers": [...]}`, optional `id`
 *   (NQ-open, EfficientQA, DPR's CuratedTREC and WebQuestions sets);
 * - a JSON document with `data: [{id, question, answers}]` (DensePhrases' questions.json);
 * - otherwise DPR's TSV `question \t ['a', 'b']` (TriviaQA test): fields quoted as by Python's
 *   csv module, the answers a Python list literal.
 * The id is the one given, else the 1-based line number. Answers are returned as written:
 * CuratedTREC's are regular expressions (one pattern per question), to be matched as such.
 */
export async function readOpenQa(file: string): Promise<OpenQa[]> {
  let first: string | undefined;
  for await (const { text } of readLines(file)) {
    if (text.trim() === '') continue;
    first = text.trim();
    break;
  }
  if (first === undefined) return [];
  if (!first.startsWith('{')) return readDprTsv(file);
  let firstValue: unknown;
  try {
    firstValue = JSON.parse(first);
  } catch {
    // A JSON document spread over lines (`{` alone on the first): the questions.json layout.
  }
  const isJsonLine = firstValue !== null && typeof firstValue === 'object' && 'question' in firstValue;
  return isJsonLine ? readJsonlQa(file) : readDataQa(file);
}

async function readJsonlQa(file: string): Promise<OpenQa[]> {
  const out: OpenQa[] = [];
  const ids = new IdSet();
  for await (const { text, line } of readLines(file)) {
    if (text.trim() === '') continue;
    const r = parseRecord(JsonlQa, parseJsonLine(text, file, line), file, line);
    const id = r.id === undefined ? String(line) : String(r.id);
    ids.add(id, file, line, 'id');
    out.push({ id, question: r.question, answers: r.answers ?? r.answer! });
  }
  return out;
}

async function readDataQa(file: string): Promise<OpenQa[]> {
  const out: OpenQa[] = [];
  const ids = new Set<string>();
  for await (const { index, value } of readJsonDataArray(file)) {
    const parsed = DataQa.safeParse(value);
    if (!parsed.success) throw pathError(file, `data[${index}]`, parsed.error);
    const id = String(parsed.data.id);
    addUnique(ids, id, file, `data[${index}].id`);
    out.push({ id, question: parsed.data.question, answers: parsed.data.answers });
  }
  return out;
}

async function readDprTsv(file: string): Promise<OpenQa[]> {
  const out: OpenQa[] = [];
  for await (const { text, line } of readLines(file)) {
    if (text.trim() === '') continue;
    const fields = splitCsvLine(text, '\t', file, line);
    if (fields.length !== 2) throw new InputError(`expected 2 tab-separated columns (question, answer list), found ${fields.length}`, { file, line });
    let answers: string[];
    try {
      answers = parsePythonStringList(fields[1]);
    } catch (err) {
      throw new InputError(`answers: ${(err as Error).message}`, { file, line, field: 'answers' }, { cause: err });
    }
    out.push({ id: String(line), question: fields[0], answers });
  }
  return out;
}

/**
 * One line split as Python's csv.reader (excel dialect) would: a field that starts with `"` is
 * quoted, `""` inside it is a quote, and text after the closing quote is kept. Fields spanning
 * lines are not supported (DPR's files have none).
 */
function splitCsvLine(text: string, delimiter: string, file: string, line: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new InputError('unterminated quoted field', { file, line });
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break;
          i++;
        }
        field += text[i++];
      }
      i++; // the closing quote
    }
    while (i < text.length && text[i] !== delimiter) field += text[i++];
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the delimiter
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': '' };

/** A Python list literal of str literals (`['a', "b's", '\xe9']`), as ast.literal_eval reads it. */
export function parsePythonStringList(src: string): string[] {
  let i = 0;
  const skipSpace = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`not a Python list of strings: ${what} at character ${i + 1} of ${JSON.stringify(src.length > 60 ? src.slice(0, 60) + '…' : src)}`);
  };
  const out: string[] = [];
  skipSpace();
  if (src[i++] !== '[') fail('expected "["');
  skipSpace();
  while (src[i] !== ']') {
    const quote = src[i];
    if (quote !== "'" && quote !== '"') fail('expected a quoted string');
    i++;
    let s = '';
    while (src[i] !== quote) {
      if (i >= src.length) fail('unterminated string');
      if (src[i] !== '\\') {
        s += src[i++];
        continue;
      }
      const c = src[i + 1];
      i += 2;
      if (c in SIMPLE_ESCAPES) s += SIMPLE_ESCAPES[c];
      else if (c === 'x' || c === 'u' || c === 'U') {
        const digits = src.slice(i, i + (c === 'x' ? 2 : c === 'u' ? 4 : 8));
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== (c === 'x' ? 2 : c === 'u' ? 4 : 8)) fail(`bad \\${c} escape`);
        const cp = parseInt(digits, 16);
        if (cp > 0x10ffff) fail('code point out of range');
        s += String.fromCodePoint(cp);
        i += digits.length;
      } else if (c !== undefined && /[0-7]/.test(c)) {
        const octal = /^[0-7]{1,3}/.exec(src.slice(i - 1))![0];
        s += String.fromCodePoint(parseInt(octal, 8));
        i += octal.length - 1;
      } else if (c === 'N') fail('\\N{...} escapes are not supported');
      else s += '\\' + (c ?? ''); // Python keeps unknown escapes as written
    }
    i++; // the closing quote
    out.push(s);
    skipSpace();
    if (src[i] === ',') {
      i++;
      skipSpace();
    } else if (src[i] !== ']') fail('expected "," or "]"');
  }
  i++;
  skipSpace();
  if (i < src.length) fail('unexpected text after "]"');
  return out;
}

/**
 * Maps a code point offset (Python's string index, which SQuAD's answer_start is) to a UTF-16
 * offset; undefined past the end. The identity when the text has no astral characters.
 */
function codePointToUtf16(text: string): (offset: number) => number | undefined {
  if (!/[\ud800-\udfff]/.test(text)) return (offset) => (offset <= text.length ? offset : undefined);
  const units: number[] = [];
  let u = 0;
  for (const ch of text) {
    units.push(u);
    u += ch.length;
  }
  units.push(u);
  return (offset) => units[offset];
}

/** A duplicate id would make two questions' results indistinguishable. (JSON data has no lines to name.) */
function addUnique(ids: Set<string>, id: string, file: string, field: string): void {
  if (ids.has(id)) throw new InputError(`duplicate id ${JSON.stringify(id)}`, { file, field });
  ids.add(id);
}

/** Names the first bad field by its JSON path below `prefix`, e.g. `data[3].paragraphs[2].qas[0].question`. */
function pathError(file: string, prefix: string, error: z.ZodError): InputError {
  const issue = error.issues[0];
  const path = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
  return new InputError(issue.message, { file, field: `${prefix}${path}` });
}
