// One session with the client against a real edge, written for any runtime (no Node APIs): the
// runtimes test runs this same compiled file in Node, in workerd and in Chromium and expects the
// same report from each. The report holds what must not depend on the runtime: hits, spans,
// stored turns and the API's errors as the client typed them.
import { EdgeSearchError, createClient, type EdgeSearchClient, type Hit } from '../src/index.js';

export interface ScenarioInput {
  /** An edge in front of the SciFact fixture (dense, bm25, hybrid; stored conversations). */
  endpoint: string;
  /** An edge in front of a phrase index. */
  phraseEndpoint: string;
  key: string;
  /** A key whose bucket is (nearly) empty: its third call at the latest is a 429. */
  tightKey: string;
}

const hitSummary = (h: Hit) => ({ rank: h.rank, docId: h.docId, score: h.score, title: h.title, chars: h.text.length });

async function errorOf(call: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await call();
    return { thrown: false };
  } catch (e) {
    if (!(e instanceof EdgeSearchError)) return { thrown: String(e) };
    return { name: e.name, status: e.status, code: e.code, field: e.field ?? null, retryable: e.retryable, retryAfterPositive: (e.retryAfterS ?? 0) > 0, requestId: typeof e.requestId === 'string' };
  }
}

async function conversation(client: EdgeSearchClient) {
  const created = await client.conversations.create();
  const first = await client.conversations.search(created.id, { query: 'vitamin D and bone density', mode: 'bm25', k: 3, record: 'top' });
  const second = await client.conversations.search(created.id, { query: 'what about fractures?', mode: 'bm25', k: 3, params: { policy: 'concat+responses' } });
  await client.conversations.recordResponse(created.id, 2, 'Fracture risk was studied too [1].');
  const stored = await client.conversations.get(created.id);
  await client.conversations.delete(created.id);
  return {
    idMatches: /^c_[A-Za-z0-9_-]{32}$/.test(created.id),
    turns: [first.turn, second.turn],
    sameConversation: first.conversation === created.id && second.conversation === created.id,
    secondHits: second.hits.map((h) => h.docId),
    stored: stored.turns.map((t) => ({ turn: t.turn, query: t.query, response: t.response === first.hits[0]?.text ? '(top hit of turn 1)' : t.response })),
    afterDelete: await errorOf(() => client.conversations.get(created.id)),
  };
}

export async function runScenario(input: ScenarioInput): Promise<Record<string, unknown>> {
  const client = createClient({ endpoint: input.endpoint, apiKey: input.key });
  const bm25 = await client.search({ query: 'vitamin D deficiency and bone density', mode: 'bm25', k: 5 });
  const hybrid = await client.search({ query: 'statins and dementia risk', k: 4 });
  const batch = await client.searchBatch([{ query: 'insulin resistance', mode: 'dense', k: 2 }, { query: 'insulin resistance', mode: 'phrase' }]);
  const phrase = createClient({ endpoint: input.phraseEndpoint, apiKey: input.key });
  const answer = await phrase.answer({ query: 'constructed passage words', k: 3 });
  // After a search: health names the index version it last saw answer.
  const health = await client.health();
  const tight = createClient({ endpoint: input.endpoint, apiKey: input.tightKey, retry: false });
  let rateLimited: Record<string, unknown> = { thrown: false };
  for (let i = 0; i < 3 && rateLimited.thrown === false; i++) rateLimited = await errorOf(() => tight.search({ query: 'x', mode: 'bm25', k: 1 }));
  return {
    health: { edge: health.edge, pool: health.pool, indexVersion: typeof health.indexVersion },
    bm25: { mode: bm25.mode, k: bm25.k, hits: bm25.hits.map(hitSummary) },
    hybrid: { mode: hybrid.mode, hits: hybrid.hits.map(hitSummary), branches: hybrid.hits.every((h) => h.branches !== undefined) },
    batch: batch.results.map((r) => ('hits' in r ? r.hits.map((h) => h.docId) : r.error.code)),
    answer: {
      mode: answer.mode,
      hits: answer.hits.length,
      spans: answer.hits.map((h) => (h.span ? h.text.slice(h.span.start, h.span.end) === h.span.text && h.span.text.length > 0 : 'none')),
      docIds: answer.hits.map((h) => h.docId),
    },
    conversation: await conversation(client),
    errors: {
      badK: await errorOf(() => client.search({ query: 'x', k: 0 })),
      phraseOnDenseIndex: await errorOf(() => client.answer({ query: 'x' })),
      unknownKey: await errorOf(() => createClient({ endpoint: input.endpoint, apiKey: 'es_not_a_key' }).search({ query: 'x' })),
      noSuchConversation: await errorOf(() => client.conversations.get('c_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')),
      rateLimited,
    },
  };
}
