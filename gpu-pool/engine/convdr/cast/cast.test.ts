import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '../../../../test/fixtures.ts';
import { CastInputError, innerSplit, readCastTopics, readConversations, readRewrites, topicFolds, turnsOf } from './index.ts';

const CAST19 = join(SHARED_DIR, 'data', 'trec-cast-2019');
const CAST19_TRAIN = join(SHARED_DIR, 'data', 'trec-cast-2019-train');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'es-convdr-cast-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const topicsJson = [
  { number: 7, title: 'x', turn: [{ number: 1, raw_utterance: 'What is throat cancer?' }, { number: 2, raw_utterance: 'Is it treatable?' }, { number: 3, raw_utterance: 'What about lungs?' }] },
  { number: 8, turn: [{ number: 1, raw_utterance: 'Tell me about bees.' }] },
];

async function write(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('CAsT readers', () => {
  it('reads CAsT-19 evaluation topics and rewrites: 50 topics, 479 turns, each with context and a rewrite', async () => {
    const topics = await readConversations(join(CAST19, 'evaluation_topics_v1.0.json'), join(CAST19, 'evaluation_topics_annotated_resolved_v1.0.tsv'));
    const turns = turnsOf(topics);
    expect(topics).toHaveLength(50);
    expect(turns).toHaveLength(479);
    expect(turns.every((t) => t.rewrite)).toBe(true);
    const t = turns.find((u) => u.id === '31_2')!;
    expect(t).toMatchObject({ topic: '31', turn: 2, depth: 2, raw: 'Is it treatable?', rewrite: 'Is throat cancer treatable?' });
    expect(t.context).toEqual([{ query: 'What is throat cancer?' }]);
  });

  it('reads the training topics with the sample rewrites when partial rewrites are allowed, and refuses them otherwise', async () => {
    const topicsFile = join(CAST19_TRAIN, 'train_topics_v1.0.json');
    const rewrites = join(CAST19_TRAIN, 'train_topic_sample_annotated_resolved_v1.0.tsv');
    const topics = await readConversations(topicsFile, rewrites, { partial: true });
    expect(topics).toHaveLength(30);
    expect(turnsOf(topics).filter((t) => t.rewrite)).toHaveLength(23);
    await expect(readConversations(topicsFile, rewrites)).rejects.toThrow(/train_topics_v1\.0\.json: topic \d+ turn \d+ has no rewrite in .*train_topic_sample_annotated_resolved_v1\.0\.tsv/);
  });

  it('reads rewrites from TSV and from JSON (object, array, topics with manual_rewritten_utterance)', async () => {
    const tsv = await readRewrites(await write('r.tsv', '7_1\tWhat is throat cancer?\n7_2\tIs throat cancer treatable?\n'));
    expect(tsv.byId.get('7_2')?.text).toBe('Is throat cancer treatable?');
    const obj = await readRewrites(await write('r.json', { '7_1': 'a', '8_1': 'b' }));
    expect([...obj.byId.keys()]).toEqual(['7_1', '8_1']);
    const arr = await readRewrites(await write('r2.json', [{ id: '7_1', rewrite: 'a' }]));
    expect(arr.byId.get('7_1')?.text).toBe('a');
    const cast20 = await readRewrites(await write('r3.json', [{ number: 7, turn: [{ number: 1, raw_utterance: 'q', manual_rewritten_utterance: 'full q' }] }]));
    expect(cast20.byId.get('7_1')?.text).toBe('full q');
  });

  it('refuses topics and rewrites that do not match, naming file, topic and turn', async () => {
    const topics = await write('t.json', topicsJson);
    const extra = await write('extra.tsv', '7_1\ta\n7_2\tb\n7_3\tc\n7_4\td\n8_1\te\n');
    await expect(readConversations(topics, extra)).rejects.toThrow(/extra\.tsv: line 4: topic 7 turn 4: .*t\.json has no such turn \(topic 7 has turns 1, 2, 3\)/);
    const missing = await write('missing.tsv', '7_1\ta\n7_3\tc\n8_1\te\n');
    await expect(readConversations(topics, missing)).rejects.toThrow(/t\.json: topic 7 turn 2 has no rewrite in .*missing\.tsv/);
    const otherTopic = await write('other.tsv', '9_1\ta\n');
    await expect(readConversations(topics, otherTopic)).rejects.toThrow(/other\.tsv: line 1: topic 9 turn 1: topic 9 is not in .*t\.json/);
    await expect(readRewrites(await write('bad.tsv', 'hello world\n'))).rejects.toThrow(/bad\.tsv: line 1: expected <topic>_<turn><TAB><rewrite>/);
    await expect(readRewrites(await write('dup.tsv', '7_1\ta\n7_1\tb\n'))).rejects.toThrow(/dup\.tsv: line 2: topic 7 turn 1 has a rewrite already \(line 1\)/);
  });

  it('refuses a bad topics file, naming the topic and turn', async () => {
    const bad = await write('bad-topics.json', [{ number: 7, turn: [{ number: 1, raw_utterance: 'q' }, { number: 2, raw_utterance: '  ' }] }]);
    await expect(readCastTopics(bad)).rejects.toThrow(CastInputError);
    await expect(readCastTopics(bad)).rejects.toThrow(/bad-topics\.json: topic 7 turn 2: \[0\]\.turn\[1\]\.raw_utterance: must not be empty/);
    await expect(readCastTopics(await write('not.json', '{'))).rejects.toThrow(/not\.json: not valid JSON/);
  });
});

describe('folds by topic', () => {
  const topics = Array.from({ length: 50 }, (_, i) => String(31 + i));
  it('deals every topic into exactly one fold, the same way every time', () => {
    const folds = topicFolds(topics, 5);
    expect(folds.map((f) => f.length)).toEqual([10, 10, 10, 10, 10]);
    expect(folds.flat().sort()).toEqual([...topics].sort());
    expect(topicFolds([...topics].reverse(), 5)).toEqual(folds);
    expect(topicFolds(topics, 5, 2)).not.toEqual(folds);
    expect(() => topicFolds(topics.slice(0, 3), 5)).toThrow(/5 folds need at least 5 topics/);
  });
  it('splits training topics into an inner train and validation part', () => {
    const { train, validation } = innerSplit(topics.slice(0, 40), 0.2);
    expect(validation).toHaveLength(8);
    expect(train).toHaveLength(32);
    expect(new Set([...train, ...validation]).size).toBe(40);
  });
});
