// The README's "Use it from a chatbot" examples are meant to be copied: each TypeScript block of
// that section runs here as written, against a local stack (its endpoint in place of npm start's,
// the key in EDGESEARCH_API_KEY), with only what the block leaves to the reader supplied (the
// language model), and what it did is checked at the edge.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures.ts';
import { apiSearch, startChatbotStack, type ChatbotStack } from './stack.ts';

const run = promisify(execFile);
const NPM_START_EDGE = 'http://127.0.0.1:8787';

/** The ```ts blocks of the README section `title`. */
async function snippets(title: string): Promise<string[]> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start, `README section "${title}"`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  return [...readme.slice(start, end).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

let stack: ChatbotStack;
let blocks: string[];
let dir: string;

beforeAll(async () => {
  blocks = await snippets('Use it from a chatbot');
  // Inside the repository (tmp/ is ignored), so that the packages and tsconfig's paths resolve as for the examples.
  await mkdir(join(REPO_ROOT, 'tmp'), { recursive: true });
  dir = await mkdtemp(join(REPO_ROOT, 'tmp', 'readme-snippets-'));
  stack = await startChatbotStack();
}, 300_000);
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `block` between `before` and `after` as an ES module; returns the last line it printed, parsed. */
async function runBlock(name: string, block: string, before: string, after: string): Promise<any> {
  expect(block, `the README block ${name} names npm start's endpoint`).toContain(NPM_START_EDGE);
  const file = join(dir, `${name}.mts`);
  await writeFile(file, `${before}\n${block.replaceAll(NPM_START_EDGE, stack.edge.url)}\n${after}\n`);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT, env: { ...process.env, EDGESEARCH_API_KEY: stack.key.key }, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const SCRIPTED_MODEL = `
import { MockLanguageModelV3 } from 'ai/test';
const usage = { inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 0, text: 0, reasoning: 0 } };
let toolText = '';
const model = new MockLanguageModelV3({
  doGenerate: async ({ prompt }) => {
    const output = prompt.flatMap((m) => (m.role === 'tool' ? m.content : [])).find((p) => p.type === 'tool-result')?.output;
    if (!output) return { content: [{ type: 'tool-call', toolCallId: 't1', toolName: 'search', input: JSON.stringify({ query: 'statins and dementia' }) }], finishReason: { unified: 'tool-calls', raw: undefined }, usage, warnings: [] };
    toolText = output.type === 'text' ? output.value : JSON.stringify(output.value);
    return { content: [{ type: 'text', text: 'It depends [1].' }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] };
  },
});`;

describe('README: Use it from a chatbot', () => {
  it('has the four ways: client, MCP, LangChain.js, AI SDK', () => {
    expect(blocks).toHaveLength(4);
    expect(blocks[0]).toContain('conversations.search');
    expect(blocks[1]).toContain('StreamableHTTPClientTransport');
    expect(blocks[2]).toContain('EdgeSearchRetriever');
    expect(blocks[3]).toContain('edgesearchTool');
  });

  it('1. the chatbot loop stores both turns with the answers, each prompt holding numbered sources', async () => {
    const before = "const prompts: string[] = [];\nconst generate = async (prompt: string) => { prompts.push(prompt); return `answer ${prompts.length} [1]`; };";
    const after = 'console.log(JSON.stringify({ turns: (await es.conversations.get(id)).turns, sources: prompts.map((p) => p.includes("[1] ") && p.includes("[3] ")) }));';
    const out = await runBlock('client', blocks[0]!, before, after);
    expect(out.turns).toEqual([
      { turn: 1, query: 'do statins lower dementia risk?', response: 'answer 1 [1]' },
      { turn: 2, query: 'what about in older women?', response: 'answer 2 [1]' },
    ]);
    expect(out.sources).toEqual([true, true]);
  });

  it('2. the MCP client reaches the edge at /mcp and its search returns the API hits', async () => {
    const out = await runBlock('mcp', blocks[1]!, '', 'await mcp.close();\nconsole.log(JSON.stringify(result));');
    const api = await apiSearch(stack.edge.url, stack.key.key, { query: 'statins and dementia risk', k: 5 });
    expect(out.isError).toBeFalsy();
    expect(out.structuredContent.hits.map((h: { docId: string }) => h.docId)).toEqual(api.hits.map((h) => h.docId));
    expect(out.content[0].text).toContain('[1] ');
  });

  it('3. the LangChain.js retriever returns 4 documents, and the chat session is 2 stored turns', async () => {
    const out = await runBlock('langchain', blocks[2]!, '', 'console.log(JSON.stringify({ docs: docs.map((d) => [d.id, d.metadata.rank]), conversation: chat.conversationId, turn: chat.lastTurn }));');
    expect(out.docs.map((d: [string, number]) => d[1])).toEqual([1, 2, 3, 4]);
    expect(out.conversation).toMatch(/^c_/);
    expect(out.turn).toBe(2);
  });

  it('4. generateText calls the AI SDK tool and the model reads numbered sources', async () => {
    const out = await runBlock('ai-sdk', blocks[3]!, SCRIPTED_MODEL, 'console.log(JSON.stringify({ text, toolText }));');
    expect(out.text).toBe('It depends [1].');
    expect(out.toolText).toMatch(/^\[1\] .+\(doc \d+, score/);
  });
});
