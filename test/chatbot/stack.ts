// A local stack for the chatbot integrations' tests (client, MCP, LangChain, AI SDK, examples):
// one pool node serving the SciFact fixture index, and the edge in workerd (wrangler dev) in
// front of it with API keys, rate limits and stored conversations, as `npm start` runs them.
// Optionally a second edge in front of a phrase index, for phrase answers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureIndex } from '../index-fixture.ts';
import { constructedPhraseIndex, type ConstructedPhraseIndex } from '../phrase-index-fixture.ts';
import { SIGNING_KEY, startSoloNode, type SoloNode } from '../pool/harness.ts';
import { startEdge, testKey, type EdgeServer, type TestKey } from '../edge/harness.ts';
import type { SearchRequest, SearchResponse } from '@edgesearch/client';

export interface ChatbotStack {
  /** The edge in front of the SciFact fixture (200 documents, 2 shards; dense, bm25, hybrid). */
  edge: EdgeServer;
  /** A key with the search scope and a generous rate. */
  key: TestKey;
  /** A key with the search scope whose bucket holds 2 tokens and refills one every 100 s. */
  tightKey: TestKey;
  /** The edge in front of a constructed phrase index (mode phrase, bm25), when asked for. */
  phrase?: { edge: EdgeServer; index: ConstructedPhraseIndex };
  stop(): Promise<void>;
}

export async function startChatbotStack(opts: { phrase?: boolean; vars?: Record<string, string> } = {}): Promise<ChatbotStack> {
  const key = testKey('chatbot', ['search'], { perSecond: 1000, burst: 1000 });
  const tightKey = testKey('tight', ['search'], { perSecond: 0.01, burst: 2 });
  const edgeVars = (poolUrl: string) => ({
    POOL_ENDPOINTS: poolUrl,
    POOL_SIGNING_KEY: SIGNING_KEY,
    API_KEYS: JSON.stringify([key.entry, tightKey.entry]),
    CORS_ORIGINS: '*',
    ...opts.vars,
  });
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => {});
  };
  try {
    const pool: SoloNode = await startSoloNode(await fixtureIndex({ limit: 200, shards: 2 }), 2);
    stoppers.push(() => pool.close());
    const edge = await startEdge(edgeVars(pool.node.url));
    stoppers.push(() => edge.stop());
    let phrase: ChatbotStack['phrase'];
    if (opts.phrase) {
      const work = await mkdtemp(join(tmpdir(), 'es-chatbot-phrase-'));
      stoppers.push(() => rm(work, { recursive: true, force: true }));
      const index = await constructedPhraseIndex(work, 24, 2, 11, { bm25: true });
      const phrasePool = await startSoloNode(index.dir, 2);
      stoppers.push(() => phrasePool.close());
      const phraseEdge = await startEdge(edgeVars(phrasePool.node.url));
      stoppers.push(() => phraseEdge.stop());
      phrase = { edge: phraseEdge, index };
    }
    return { edge, key, tightKey, ...(phrase ? { phrase } : {}), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * POST /v1/search answered directly, as any HTTP client asks it (plain fetch, no client package):
 * the reference the integrations' answers are compared with. A non-200 answer throws with its body.
 */
export async function apiSearch(endpoint: string, key: string, body: SearchRequest): Promise<SearchResponse> {
  const res = await fetch(`${endpoint}/v1/search`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${endpoint}/v1/search answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as SearchResponse;
}
