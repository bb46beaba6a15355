// EdgeSearchRetriever against a real local stack (a pool node on the SciFact fixture behind the
// edge in workerd): the documents are the API's hits, conversations are stored at the edge,
// API errors surface as EdgeSearchError, and the retriever runs inside an LCEL chain.
import { RunnableLambda, RunnableSequence } from '@langchain/core/runnables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, EdgeSearchError, type EdgeSearchClient, type SearchRequest, type SearchResponse } from '@edgesearch/client';
import { EdgeSearchRetriever, type EdgeSearchDocument } from '@edgesearch/client/langchain';
import { apiSearch, startChatbotStack, type ChatbotStack } from '../../../../test/chatbot/stack.ts';
import { scifactTestQueries } from '../../../../test/fixtures.ts';

let stack: ChatbotStack;
let client: EdgeSearchClient;
let queries: string[];

beforeAll(async () => {
  stack = await startChatbotStack();
  client = createClient({ endpoint: stack.edge.url, apiKey: stack.key.key });
  queries = (await scifactTestQueries(20)).map((q) => q.text);
});

afterAll(async () => {
  await stack?.stop();
});

/** The API answered directly, as any HTTP client would ask it. */
const rawSearch = (body: SearchRequest) => apiSearch(stack.edge.url, stack.key.key, body);

/** The documents are the response's hits: same ids in order, scores, passages, titles, ranks. */
function expectSameHits(docs: EdgeSearchDocument[], api: SearchResponse): void {
  expect(api.hits.length).toBeGreaterThan(0);
  expect(docs.map((d) => d.id)).toEqual(api.hits.map((h) => h.docId));
  expect(docs.map((d) => d.metadata.score)).toEqual(api.hits.map((h) => h.score));
  expect(docs.map((d) => d.pageContent)).toEqual(api.hits.map((h) => h.text));
  expect(docs.map((d) => [d.metadata.docId, d.metadata.title, d.metadata.rank])).toEqual(api.hits.map((h) => [h.docId, h.title, h.rank]));
  for (const d of docs) {
    expect(d.metadata.mode).toBe(api.mode);
    expect(d.metadata.indexVersion).toBe(api.indexVersion);
    expect(d.metadata.conversation).toBeUndefined();
  }
}

describe('EdgeSearchRetriever', () => {
  it('returns the same hits as POST /v1/search for 20 SciFact test queries (hybrid)', async () => {
    expect(queries).toHaveLength(20);
    // cache: false on both sides, so each answer is computed by the pool, not read back from the cache.
    const retriever = new EdgeSearchRetriever({ client, k: 10, cache: false });
    for (const query of queries) {
      const api = await rawSearch({ query, k: 10, cache: false });
      expect(api.mode).toBe('hybrid');
      expect(api.cached).toBe(false);
      expectSameHits(await retriever.invoke(query), api);
    }
  });

  it('returns the same hits as the API in dense and bm25 modes, and with endpoint + apiKey', async () => {
    for (const mode of ['dense', 'bm25'] as const) {
      const retriever = new EdgeSearchRetriever({ endpoint: stack.edge.url, apiKey: stack.key.key, mode, k: 5, cache: false });
      for (const query of queries.slice(0, 3)) {
        const api = await rawSearch({ query, mode, k: 5, cache: false });
        expect(api.mode).toBe(mode);
        expectSameHits(await retriever.invoke(query), api);
      }
    }
  });

  it('makes each invoke a turn of a stored conversation (conversationId)', async () => {
    const conv = await client.conversations.create();
    const retriever = new EdgeSearchRetriever({ client, conversationId: conv.id, k: 5 });
    const asked = queries.slice(0, 3);
    for (const [i, query] of asked.entries()) {
      const docs = await retriever.invoke(query);
      expect(docs.length).toBeGreaterThan(0);
      for (const d of docs) expect(d.metadata).toMatchObject({ conversation: conv.id, turn: i + 1 });
      expect(retriever.lastTurn).toBe(i + 1);
      // A stored turn is the stateless search with the turns before it as context.
      const api = await rawSearch({ query, k: 5, context: asked.slice(0, i).map((q) => ({ query: q })) });
      expect(docs.map((d) => [d.id, d.metadata.score])).toEqual(api.hits.map((h) => [h.docId, h.score]));
    }
    const stored = await client.conversations.get(conv.id);
    expect(stored.turns.map((t) => t.turn)).toEqual([1, 2, 3]);
    expect(stored.turns.map((t) => t.query)).toEqual(asked.map((q) => q.replace(/\s+/g, ' ').trim().normalize('NFC')));
  });

  it('creates one conversation on the first invoke with conversation: "new", and records responses', async () => {
    const retriever = new EdgeSearchRetriever({ client, conversation: 'new', k: 3 });
    expect(retriever.conversationId).toBeUndefined();
    await expect(retriever.recordResponse('too early')).rejects.toThrow(/no conversation turn yet/);
    // Concurrent first invokes share one creation.
    const [a, b] = await Promise.all([retriever.invoke(queries[0]), retriever.invoke(queries[1])]);
    const id = retriever.conversationId;
    expect(id).toMatch(/\S/);
    expect(new Set([...a, ...b].map((d) => d.metadata.conversation))).toEqual(new Set([id]));
    expect([a[0].metadata.turn, b[0].metadata.turn].sort()).toEqual([1, 2]);
    const third = await retriever.invoke(queries[2]);
    expect(third[0].metadata).toMatchObject({ conversation: id, turn: 3 });
    await retriever.recordResponse('The bot said so [1].');
    const stored = await client.conversations.get(id!);
    expect(stored.turns).toHaveLength(3);
    expect(stored.turns[2]).toMatchObject({ turn: 3, response: 'The bot said so [1].' });
  });

  it('surfaces API errors as EdgeSearchError from invoke', async () => {
    const badK = new EdgeSearchRetriever({ client, k: 0 });
    const err = await badK.invoke(queries[0]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EdgeSearchError);
    expect(err).toMatchObject({ status: 400, code: 'bad_request', field: 'k' });

    const badKey = new EdgeSearchRetriever({ endpoint: stack.edge.url, apiKey: 'es_not_a_key' });
    await expect(badKey.invoke(queries[0])).rejects.toMatchObject({ name: 'EdgeSearchError', status: 401, code: 'unauthorized' });

    const gone = new EdgeSearchRetriever({ client, conversationId: 'no-such-conversation' });
    await expect(gone.invoke(queries[0])).rejects.toBeInstanceOf(EdgeSearchError);
  });

  it('refuses contradictory options', () => {
    expect(() => new EdgeSearchRetriever({})).toThrow(/`client` or an `endpoint`/);
    expect(() => new EdgeSearchRetriever({ client, conversationId: 'x', conversation: 'new' })).toThrow(/not both/);
    expect(() => new EdgeSearchRetriever({ client, record: 'top' })).toThrow(/needs a conversation/);
  });

  it('runs inside an LCEL chain without a model', async () => {
    const retriever = new EdgeSearchRetriever({ client, k: 3 });
    const formatDocs = (docs: EdgeSearchDocument[]) => docs.map((d, i) => `[${i + 1}] ${d.metadata.title} (${d.id})`).join('\n');
    const piped = retriever.pipe(RunnableLambda.from(formatDocs));
    const sequence = RunnableSequence.from([(input: { question: string }) => input.question, retriever, formatDocs, (context: string) => `Context:\n${context}`]);
    const api = await rawSearch({ query: queries[4], k: 3 });
    const expected = api.hits.map((h, i) => `[${i + 1}] ${h.title} (${h.docId})`).join('\n');
    expect(await piped.invoke(queries[4])).toBe(expected);
    expect(await sequence.invoke({ question: queries[4] })).toBe(`Context:\n${expected}`);
    // batch runs the retriever once per input.
    const [first, second] = await retriever.batch([queries[4], queries[5]]);
    expect(first.map((d) => d.id)).toEqual(api.hits.map((h) => h.docId));
    expect(second.length).toBe(3);
  });
});
