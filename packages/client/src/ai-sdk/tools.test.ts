// The AI SDK tools against a real local stack (a pool node on the SciFact fixture behind the edge
// in workerd, and an edge in front of a phrase index): the tool's hits are the API's, its input
// schema holds a model to valid input, conversations are stored at the edge, and generateText
// runs it with a mock model.
import { asSchema, generateText, stepCountIs, type Tool, type ToolExecutionOptions } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { citeHits, createClient, EdgeSearchError, type EdgeSearchClient, type SearchRequest, type SearchResponse } from '@edgesearch/client';
import { edgesearchAnswerTool, edgesearchTool, type EdgeSearchToolResult } from '@edgesearch/client/ai-sdk';
import { apiSearch, startChatbotStack, type ChatbotStack } from '../../../../test/chatbot/stack.ts';
import { scifactTestQueries } from '../../../../test/fixtures.ts';

let stack: ChatbotStack;
let client: EdgeSearchClient;
let queries: string[];

beforeAll(async () => {
  stack = await startChatbotStack({ phrase: true });
  client = createClient({ endpoint: stack.edge.url, apiKey: stack.key.key });
  queries = (await scifactTestQueries(20)).map((q) => q.text);
});

afterAll(async () => {
  await stack?.stop();
});

const rawSearch = (body: SearchRequest, endpoint = stack.edge.url) => apiSearch(endpoint, stack.key.key, body);

const callOptions: ToolExecutionOptions = { toolCallId: 'call-1', messages: [] };

/** The tool called as the AI SDK calls it once a model asked for it. */
async function execute<I>(t: Tool<I, EdgeSearchToolResult>, input: I): Promise<EdgeSearchToolResult> {
  return (await t.execute!(input, callOptions)) as EdgeSearchToolResult;
}

function expectSameHits(out: EdgeSearchToolResult, api: SearchResponse): void {
  expect(api.hits.length).toBeGreaterThan(0);
  expect(out.hits.map((h) => h.docId)).toEqual(api.hits.map((h) => h.docId));
  expect(out.hits.map((h) => h.score)).toEqual(api.hits.map((h) => h.score));
  expect(out.hits.map((h) => h.text)).toEqual(api.hits.map((h) => h.text));
  expect(out.hits.map((h) => [h.n, h.rank, h.title, h.span])).toEqual(api.hits.map((h, i) => [i + 1, h.rank, h.title, h.span]));
  expect(out).toMatchObject({ query: api.query, mode: api.mode, indexVersion: api.indexVersion });
  expect(out.citations).toBe(citeHits(api));
  // What the app may store or send on: plain JSON.
  expect(JSON.parse(JSON.stringify(out))).toEqual(out);
}

describe('edgesearchTool', () => {
  it('returns the same hits as POST /v1/search for 20 SciFact test queries (hybrid)', async () => {
    expect(queries).toHaveLength(20);
    // cache: false on both sides, so each answer is computed by the pool, not read back from the cache.
    const search = edgesearchTool({ client, cache: false });
    for (const query of queries) {
      const api = await rawSearch({ query, k: 10, cache: false });
      expect(api.mode).toBe('hybrid');
      expectSameHits(await execute(search, { query, k: 10 }), api);
    }
  });

  it('searches in the mode the model chooses, k defaulting to 5', async () => {
    const search = edgesearchTool({ endpoint: stack.edge.url, apiKey: stack.key.key, cache: false });
    for (const mode of ['dense', 'bm25'] as const) {
      for (const query of queries.slice(0, 3)) expectSameHits(await execute(search, { query, mode }), await rawSearch({ query, mode, k: 5, cache: false }));
    }
  });

  it('has an input schema that refuses what the API would refuse', async () => {
    const search = edgesearchTool({ client });
    const schema = asSchema(search.inputSchema);
    const valid = async (x: unknown) => (await schema.validate!(x)).success;
    expect(await valid({ query: 'statins and dementia' })).toBe(true);
    expect(await valid({ query: 'statins', k: 20, mode: 'bm25' })).toBe(true);
    for (const bad of [{}, { query: '' }, { query: '   ' }, { query: 'x'.repeat(1025) }, { query: 'q', k: 0 }, { query: 'q', k: 21 }, { query: 'q', k: 2.5 }, { query: 'q', mode: 'phrase' }, { query: 7 }]) {
      expect(await valid(bad), JSON.stringify(bad)).toBe(false);
    }
    // The JSON Schema the model is shown.
    const json = (await schema.jsonSchema) as { properties: Record<string, { enum?: string[] }>; required: string[] };
    expect(Object.keys(json.properties).sort()).toEqual(['k', 'mode', 'query']);
    expect(json.properties.mode.enum).toEqual(['hybrid', 'dense', 'bm25']);
    expect(json.required).toEqual(['query']);
    // One allowed mode: no choice, and no mode in the schema.
    const only = asSchema(edgesearchTool({ client, modes: ['bm25'], mode: 'bm25', maxK: 3 }).inputSchema);
    expect(Object.keys(((await only.jsonSchema) as { properties: object }).properties).sort()).toEqual(['k', 'query']);
    expect((await only.validate!({ query: 'q', k: 4 })).success).toBe(false);
  });

  it('makes each call a turn of a stored conversation (conversationId)', async () => {
    const conv = await client.conversations.create();
    const search = edgesearchTool({ client, conversationId: conv.id, k: 3, record: 'top' });
    for (const [i, query] of queries.slice(0, 3).entries()) {
      const out = await execute(search, { query });
      expect(out).toMatchObject({ conversation: conv.id, turn: i + 1 });
      expect(out.hits).toHaveLength(3);
    }
    const stored = await client.conversations.get(conv.id);
    expect(stored.turns.map((t) => t.turn)).toEqual([1, 2, 3]);
    // record: 'top' stored each turn's best passage as its response.
    for (const t of stored.turns) expect(t.response).toBeTruthy();
  });

  it('throws the API error as an EdgeSearchError', async () => {
    const search = edgesearchTool({ client });
    const err = await execute(search, { query: 'q', k: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeSearchError);
    expect(err).toMatchObject({ status: 400, field: 'k' });
    const unauthorized = edgesearchTool({ endpoint: stack.edge.url, apiKey: 'es_wrong' });
    await expect(execute(unauthorized, { query: 'q' })).rejects.toMatchObject({ name: 'EdgeSearchError', status: 401 });
    expect(() => edgesearchTool({})).toThrow(/`client` or an `endpoint`/);
  });

  it('runs in generateText: the model calls it and reads the numbered sources', async () => {
    const query = queries[0];
    const model = new MockLanguageModelV3({
      doGenerate: [
        {
          content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'search', input: JSON.stringify({ query, k: 3 }) }],
          finishReason: { unified: 'tool-calls', raw: undefined },
          usage: usage(),
          warnings: [],
        },
        { content: [{ type: 'text', text: 'Statins help [1].' }], finishReason: { unified: 'stop', raw: undefined }, usage: usage(), warnings: [] },
      ],
    });
    const result = await generateText({ model, tools: { search: edgesearchTool({ client }) }, prompt: query, stopWhen: stepCountIs(3) });
    expect(result.text).toBe('Statins help [1].');
    const api = await rawSearch({ query, k: 3 });
    const toolResult = result.steps[0].toolResults[0];
    expect(toolResult.toolName).toBe('search');
    expectSameHits(toolResult.output as EdgeSearchToolResult, api);
    // The second model call was shown the citations text, not the JSON.
    const shown = JSON.stringify(model.doGenerateCalls[1].prompt);
    expect(shown).toContain(JSON.stringify(citeHits(api)).slice(1, -1));
  });
});

describe('edgesearchAnswerTool', () => {
  it('returns the phrase answers of the API, spans in the citations', async () => {
    const phrase = stack.phrase!;
    const answer = edgesearchAnswerTool({ endpoint: phrase.edge.url, apiKey: stack.key.key, k: 3, cache: false });
    const query = phrase.index.passages[4].text.split(' ').slice(2, 6).join(' ');
    const out = await execute(answer, { query });
    const api = await rawSearch({ query, mode: 'phrase', k: 3, cache: false }, phrase.edge.url);
    expect(api.mode).toBe('phrase');
    expectSameHits(out, api);
    for (const h of out.hits) expect(h.text.slice(h.span!.start, h.span!.end)).toBe(h.span!.text);
    expect(out.citations).toContain(`Answer: ${out.hits[0].span!.text}`);
    expect(Object.keys(((await asSchema(answer.inputSchema).jsonSchema) as { properties: object }).properties).sort()).toEqual(['k', 'query']);
  });
});

function usage() {
  return {
    inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 5, text: 5, reasoning: undefined },
  };
}
