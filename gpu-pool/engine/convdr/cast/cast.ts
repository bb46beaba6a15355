// TREC CAsT inputs: topic files (turns with `raw_utterance`), manual rewrites (the annotated TSV
// `<topic>_<turn>\t<rewrite>`, or JSON), joined into conversations with the turns before each, and
// folds by topic. Bad input names the file, topic and turn.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ConversationTurn } from '../../conversation/index.ts';

/** One turn of a conversation, with the turns before it (oldest first) and its manual rewrite. */
export interface CastTurn {
  /** `<topic>_<turn>`, the id CAsT's qrels and run files use. */
  id: string;
  topic: string;
  /** The turn's number as the file gives it. */
  turn: number;
  /** 1 for the first turn of its topic, 2 for the second, ... (position in the file). */
  depth: number;
  raw: string;
  context: ConversationTurn[];
  /** The manual rewrite (self-contained query), when one is given. */
  rewrite?: string;
}

export interface CastTopic {
  topic: string;
  title?: string;
  turns: CastTurn[];
}

export class CastInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CastInputError';
  }
}

const TopicNumber = z.union([z.number().int().nonnegative(), z.string().regex(/^[A-Za-z0-9-]+$/, 'must be letters, digits or -')]);
const Turn = z.looseObject({ number: z.number().int().positive(), raw_utterance: z.string().trim().min(1, 'must not be empty'), manual_rewritten_utterance: z.string().optional() });
const Topic = z.looseObject({ number: TopicNumber, title: z.string().optional(), description: z.string().optional(), turn: z.array(Turn).min(1) });
const TopicsFile = z.array(Topic).min(1);

function issueAt(file: string, error: z.ZodError, root: unknown): string {
  const issue = error.issues[0];
  const path = issue.path;
  // Name the topic (and turn) the bad field belongs to, by its number when it has one.
  let where = '';
  if (typeof path[0] === 'number' && Array.isArray(root)) {
    const t = root[path[0]] as { number?: unknown; turn?: unknown[] } | undefined;
    where = `topic ${t && t.number !== undefined ? String(t.number) : `#${path[0]}`}`;
    if (path[1] === 'turn' && typeof path[2] === 'number') {
      const u = t?.turn?.[path[2]] as { number?: unknown } | undefined;
      where += ` turn ${u && u.number !== undefined ? String(u.number) : `#${path[2]}`}`;
    }
    where += ': ';
  }
  return `${file}: ${where}${path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('') || '(root)'}: ${issue.message}`;
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CastInputError(`${what} ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CastInputError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
}

/** A CAsT topics JSON file (CAsT-19 evaluation or training topics; CAsT-20's extra fields are kept out). */
export async function readCastTopics(file: string): Promise<{ topics: CastTopic[]; rewrites: Map<string, string> }> {
  const json = await readJson(file, 'topics');
  const parsed = TopicsFile.safeParse(json);
  if (!parsed.success) throw new CastInputError(issueAt(file, parsed.error, json));
  const seen = new Set<string>();
  const rewrites = new Map<string, string>();
  const topics = parsed.data.map((t): CastTopic => {
    const topic = String(t.number);
    if (seen.has(topic)) throw new CastInputError(`${file}: topic ${topic} is listed twice`);
    seen.add(topic);
    const numbers = new Set<number>();
    const context: ConversationTurn[] = [];
    const turns = t.turn.map((u, i): CastTurn => {
      if (numbers.has(u.number)) throw new CastInputError(`${file}: topic ${topic} turn ${u.number} is listed twice`);
      numbers.add(u.number);
      const raw = u.raw_utterance.trim();
      const turn: CastTurn = { id: `${topic}_${u.number}`, topic, turn: u.number, depth: i + 1, raw, context: [...context] };
      context.push({ query: raw });
      if (u.manual_rewritten_utterance?.trim()) rewrites.set(turn.id, u.manual_rewritten_utterance.trim());
      return turn;
    });
    return { topic, ...(t.title ? { title: t.title } : {}), turns };
  });
  return { topics, rewrites };
}

const RewriteId = /^([A-Za-z0-9-]+)_([1-9][0-9]*)$/;
const RewritesJson = z.union([
  z.record(z.string(), z.string()),
  z.array(z.union([z.strictObject({ id: z.string(), rewrite: z.string() }), z.strictObject({ id: z.string(), text: z.string() }), z.strictObject({ qid: z.string(), text: z.string() })])),
]);

/** Where each rewrite came from (line of a TSV, or key of a JSON), for error messages. */
export interface Rewrites {
  file: string;
  byId: Map<string, { text: string; where: string }>;
}

/**
 * Manual rewrites: the annotated TSV (`<topic>_<turn>\t<rewrite>` per line), a JSON object
 * `{"<topic>_<turn>": rewrite}`, a JSON array of `{id, rewrite}` / `{id, text}` / `{qid, text}`, or a
 * CAsT topics JSON whose turns carry `manual_rewritten_utterance` (CAsT-20).
 */
export async function readRewrites(file: string): Promise<Rewrites> {
  const byId = new Map<string, { text: string; where: string }>();
  const add = (id: string, text: string, where: string) => {
    const m = RewriteId.exec(id.trim());
    if (!m) throw new CastInputError(`${file}: ${where}: "${id}" is not a turn id <topic>_<turn> (e.g. 31_2)`);
    const t = text.trim();
    if (!t) throw new CastInputError(`${file}: ${where}: topic ${m[1]} turn ${m[2]}: the rewrite is empty`);
    const key = `${m[1]}_${m[2]}`;
    const prev = byId.get(key);
    if (prev) throw new CastInputError(`${file}: ${where}: topic ${m[1]} turn ${m[2]} has a rewrite already (${prev.where})`);
    byId.set(key, { text: t, where });
  };
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new CastInputError(`rewrites ${file}: ${err.message}`);
  });
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    const json = await readJson(file, 'rewrites');
    if (Array.isArray(json) && json.length > 0 && json.every((x) => x && typeof x === 'object' && 'turn' in x)) {
      const { rewrites } = await readCastTopics(file);
      for (const [id, r] of rewrites) add(id, r, `topic ${id.split('_')[0]}`);
      if (byId.size === 0) throw new CastInputError(`${file}: a topics file without manual_rewritten_utterance fields holds no rewrites`);
      return { file, byId };
    }
    const parsed = RewritesJson.safeParse(json);
    if (!parsed.success) throw new CastInputError(`${file}: expected {"<topic>_<turn>": rewrite} or [{"id", "rewrite"}]: ${issueAt(file, parsed.error, undefined).slice(file.length + 2)}`);
    if (Array.isArray(parsed.data))
      parsed.data.forEach((r, i) => add('id' in r ? r.id : r.qid, 'rewrite' in r ? r.rewrite : r.text, `[${i}]`));
    else for (const [id, r] of Object.entries(parsed.data)) add(id, r, `key "${id}"`);
    return { file, byId };
  }
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const tab = line.indexOf('\t');
    if (tab < 0) throw new CastInputError(`${file}: line ${i + 1}: expected <topic>_<turn><TAB><rewrite>`);
    add(line.slice(0, tab), line.slice(tab + 1), `line ${i + 1}`);
  });
  if (byId.size === 0) throw new CastInputError(`${file}: no rewrites`);
  return { file, byId };
}

export interface JoinOptions {
  /** Allow turns without a rewrite (they stay in the conversation as context; default false). */
  partial?: boolean;
}

/**
 * Attach rewrites to turns. A rewrite for a topic or turn the topics file lacks is an error, and so
 * is (unless `partial`) a turn without a rewrite: both name the files, topic and turn.
 */
export function joinRewrites(topicsFile: string, topics: CastTopic[], rewrites: Rewrites, opts: JoinOptions = {}): CastTopic[] {
  const byTopic = new Map(topics.map((t) => [t.topic, t]));
  for (const [id, { where }] of rewrites.byId) {
    const [topic, turn] = id.split('_');
    const t = byTopic.get(topic);
    if (!t) throw new CastInputError(`${rewrites.file}: ${where}: topic ${topic} turn ${turn}: topic ${topic} is not in ${topicsFile}`);
    if (!t.turns.some((u) => u.turn === Number(turn)))
      throw new CastInputError(`${rewrites.file}: ${where}: topic ${topic} turn ${turn}: ${topicsFile} has no such turn (topic ${topic} has turns ${t.turns.map((u) => u.turn).join(', ')})`);
  }
  return topics.map((t) => ({
    ...t,
    turns: t.turns.map((u) => {
      const r = rewrites.byId.get(u.id);
      if (!r && !opts.partial) throw new CastInputError(`${topicsFile}: topic ${u.topic} turn ${u.turn} has no rewrite in ${rewrites.file} (every turn needs one; the files do not match)`);
      return r ? { ...u, rewrite: r.text } : { ...u };
    }),
  }));
}

/** Topics and rewrites read and joined (rewrites may be left out: then none are attached). */
export async function readConversations(topicsFile: string, rewritesFile?: string, opts: JoinOptions = {}): Promise<CastTopic[]> {
  const { topics, rewrites } = await readCastTopics(topicsFile);
  if (rewritesFile) return joinRewrites(topicsFile, topics, await readRewrites(rewritesFile), opts);
  if (rewrites.size > 0) return joinRewrites(topicsFile, topics, { file: topicsFile, byId: new Map([...rewrites].map(([id, text]) => [id, { text, where: 'manual_rewritten_utterance' }])) }, { partial: true });
  return topics;
}

/** The turns of the topics, in file order. */
export const turnsOf = (topics: readonly CastTopic[]): CastTurn[] => topics.flatMap((t) => t.turns);

/** Turn depth as reported: "1", "2", "3+". */
export const depthGroup = (depth: number): '1' | '2' | '3+' => (depth === 1 ? '1' : depth === 2 ? '2' : '3+');
