// The examples, run as a user runs them (`node --import tsx examples/<name>.ts`, from the
// repository root, EDGESEARCH_ENDPOINT and EDGESEARCH_API_KEY set) against a local stack: a pool
// node on the SciFact fixture behind the edge in workerd. Their language model is the stand-in
// (stand-in-model.ts), so what they print can be checked against the API's own answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type EdgeSearchClient, type SearchRequest, type SearchResponse } from '@edgesearch/client';
import { apiSearch, startChatbotStack, type ChatbotStack } from '../test/chatbot/stack.ts';
import { runNode, type CliResult } from '../test/cli.ts';

let stack: ChatbotStack;
let client: EdgeSearchClient;

beforeAll(async () => {
  stack = await startChatbotStack();
  client = createClient({ endpoint: stack.edge.url, apiKey: stack.key.key });
});

afterAll(async () => {
  await stack?.stop();
});

/** An example run as a user runs it, with the stack's endpoint and key in its environment. */
function runExample(name: string, args: string[] = [], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return runNode(['--import', 'tsx', `examples/${name}`, ...args], {
    env: { ...process.env, EDGESEARCH_ENDPOINT: stack.edge.url, EDGESEARCH_API_KEY: stack.key.key, ...opts.env },
    stdin: opts.stdin ?? '',
  });
}

const rawSearch = (body: SearchRequest) => apiSearch(stack.edge.url, stack.key.key, body);

/** The document ids of the `[n] title (doc id...)` source lines, in order. */
function citedDocIds(block: string): string[] {
  return [...block.matchAll(/^ {2}\[(\d+)\] .* \(doc ([^,)]+)[,)]/gm)].map((m, i) => {
    expect(Number(m[1])).toBe(i + 1);
    return m[2];
  });
}

/** The chatbot's output as its turns: question, answer and cited documents. */
function chatTurns(stdout: string): { question: string; answer: string; docIds: string[] }[] {
  return stdout
    .split('\nyou: ')
    .slice(1)
    .map((block) => ({
      question: block.slice(0, block.indexOf('\n')),
      answer: /^bot: (.*)$/m.exec(block)![1],
      docIds: citedDocIds(block),
    }));
}

describe('examples', () => {
  it('chatbot-loop.ts keeps the conversation at the edge and answers with citations', async () => {
    const questions = ['do statins lower dementia risk?', 'what about in older women?', 'vitamin D and bone fractures'];
    const run = await runExample('chatbot-loop.ts', questions);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const id = /^conversation (\S+) /.exec(run.stdout)![1];
    const turns = chatTurns(run.stdout);
    expect(turns.map((t) => t.question)).toEqual(questions);
    for (const t of turns) {
      expect(t.answer).toMatch(/\[1\]$/);
      expect(t.docIds).toHaveLength(3);
    }
    expect(run.stdout).toContain(`3 turns stored in conversation ${id}`);

    // The edge holds the turns, each with the answer the bot printed.
    const stored = await client.conversations.get(id);
    expect(stored.turns.map((t) => [t.turn, t.query, t.response])).toEqual(turns.map((t, i) => [i + 1, t.question, t.answer]));
    // Each turn was searched with the questions and recorded answers before it (policy concat+responses).
    for (const [i, t] of turns.entries()) {
      const api = await rawSearch({
        query: t.question,
        k: 3,
        params: { policy: 'concat+responses' },
        context: turns.slice(0, i).map((p) => ({ query: p.question, response: p.answer })),
      });
      expect(t.docIds).toEqual(api.hits.map((h) => h.docId));
    }
  });

  it('chatbot-loop.ts reads user turns from stdin lines', async () => {
    const run = await runExample('chatbot-loop.ts', [], { stdin: 'vitamin D and fractures\n\nis it true for men?\n' });
    expect(run.code).toBe(0);
    const turns = chatTurns(run.stdout);
    expect(turns.map((t) => t.question)).toEqual(['vitamin D and fractures', 'is it true for men?']);
    const id = /^conversation (\S+) /.exec(run.stdout)![1];
    expect((await client.conversations.get(id)).turns).toHaveLength(2);
  });

  it('chatbot-loop.ts says where it could not connect', async () => {
    const run = await runExample('chatbot-loop.ts', ['x'], { env: { EDGESEARCH_ENDPOINT: 'http://127.0.0.1:9' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Is the service running (npm start) at EDGESEARCH_ENDPOINT?');
  });

  it('langchain-rag.ts answers from the retriever\'s documents, citing them', async () => {
    const question = 'statins and dementia risk';
    const run = await runExample('langchain-rag.ts', [question]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`question: ${question}\n`);
    const api = await rawSearch({ query: question, mode: 'hybrid', k: 4 });
    expect(/^answer: (.*)$/m.exec(run.stdout)![1]).toBe(`According to "${api.hits[0].title}": ${api.hits[0].text.match(/^.*?[.!?](?=\s|$)/)![0]} [1]`);
    expect(citedDocIds(run.stdout)).toEqual(api.hits.map((h) => h.docId));
    for (const h of api.hits) expect(run.stdout).toContain(`(doc ${h.docId}, score ${h.score.toFixed(4)})`);
  });

  it('ai-sdk-tool.ts has the model call the search tool and cite its sources', async () => {
    const question = 'insulin resistance';
    const run = await runExample('ai-sdk-tool.ts', [question]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const api = await rawSearch({ query: question, k: 4 });
    expect(run.stdout).toContain(`tool search({"query":"${question}"}): 4 hits (hybrid)`);
    expect(/^answer: (.*)$/m.exec(run.stdout)![1]).toBe(`According to "${api.hits[0].title}": ${api.hits[0].text.match(/^.*?[.!?](?=\s|$)/)![0]} [1]`);
    expect(citedDocIds(run.stdout)).toEqual(api.hits.map((h) => h.docId));
  });

  it('ai-sdk-tool.ts reports the API error the tool got', async () => {
    const run = await runExample('ai-sdk-tool.ts', ['q'], { env: { EDGESEARCH_API_KEY: 'es_wrong' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('tool search failed: search: 401 unauthorized');
  });
});
