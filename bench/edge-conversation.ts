// What keeping the conversation at the edge costs: 6-turn conversations made of SciFact test
// queries, each turn sent two ways to the same edge (deploy bundle in workerd, one pool router,
// cache off): stateless, `POST /v1/search` with the previous turns as `context`, and stateful,
// `POST /v1/conversations/{id}/search`, where the conversation's Durable Object supplies the
// context and appends the turn. The difference is the Durable Object round trip and its storage.
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '../gpu-pool/service/cluster/index.ts';
import { percentile } from '../test/load/closed-loop.ts';
import { EdgeLoadClient } from '../test/load/edge-client.ts';
import { startEdgeBundle, testKey, type EdgeServer } from '../test/edge/harness.ts';
import { scifactTestQueries } from '../test/fixtures.ts';
import { machineLine } from './machine.ts';
import { poolIndex } from './pool-index.ts';

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const TURNS = 6;

export interface ConversationSectionOptions {
  work: string;
  factory: string;
  log: (m: string) => void;
}

export const CONVERSATION_HEADING = '## Conversations: a stateful turn against a stateless one';

/** Runs the section and returns its markdown lines. */
export async function conversationSection(opts: ConversationSectionOptions): Promise<string[]> {
  const { work, factory, log } = opts;
  const index = poolIndex(work, factory, log);
  const queries = await scifactTestQueries();
  const signingKey = 'bench-conversation-key';
  const key = testKey('bench', ['search'], { perSecond: 1e6, burst: 1e6 });
  const conversations = Math.floor(queries.length / TURNS);
  const lines = [
    CONVERSATION_HEADING,
    '',
    `${conversations} conversations of ${TURNS} turns (the 300 SciFact test queries in order, ${TURNS} to a conversation), k=10, cache off, on the deploy bundle in workerd whose only endpoint is one pool router (node0 of a 3-node, 4-shard ${factory} + BM25 cluster). Each turn is sent both ways, alternating which goes first: stateless, \`POST /v1/search\` with the previous turns as \`context\`; stateful, \`POST /v1/conversations/{id}/search\` (the conversation's Durable Object supplies the context and stores the turn). Both ask the pool the same query (policy concat). Stateful-added: the median and p99 over turns of (stateful − stateless) for the same turn. Create: \`POST /v1/conversations\`. Command: \`BENCH_EDGE_ONLY=conversation npm run bench:edge\`.`,
    '',
    '| mode | turns | stateless p50 | stateless p99 | stateful p50 | stateful p99 | stateful-added p50 | stateful-added p99 | create p50 | same hits |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  let cluster: LocalCluster | undefined;
  let edge: EdgeServer | undefined;
  let client: EdgeLoadClient | undefined;
  const added: Record<string, number> = {};
  try {
    log('conversations: a 3-node cluster and the deploy bundle');
    cluster = await startLocalCluster({ index, nodes: 3, replicas: 2, shards: 4, configPath: join(work, 'conversation-cluster.json'), signingKey, overrides: { threads: 1 } });
    edge = await startEdgeBundle({ POOL_ENDPOINTS: cluster.nodes[0].url, POOL_SIGNING_KEY: signingKey, API_KEYS: JSON.stringify([key.entry]), REQUEST_DEADLINE_MS: '10000' });
    client = new EdgeLoadClient(edge.url, key.key);
    for (const mode of ['bm25', 'hybrid'] as const) {
      log(`conversations: ${mode}`);
      const stateless: number[] = [];
      const stateful: number[] = [];
      const diff: number[] = [];
      const create: number[] = [];
      let same = 0;
      let turns = 0;
      // Warm up both paths (first Durable Object, first pool queries).
      for (let w = 0; w < 2; w++) {
        const { json } = await client.post('/v1/conversations', {});
        await client.post(`/v1/conversations/${(json as { id: string }).id}/search`, { query: queries[w].text, mode, k: 10, cache: false });
      }
      for (let c = 0; c < conversations; c++) {
        let t = performance.now();
        const made = await client.post('/v1/conversations', {});
        create.push(performance.now() - t);
        if (made.status !== 201) throw new Error(`POST /v1/conversations answered ${made.status}: ${JSON.stringify(made.json)}`);
        const id = (made.json as { id: string }).id;
        const context: { query: string }[] = [];
        for (let turn = 0; turn < TURNS; turn++) {
          const query = queries[c * TURNS + turn].text;
          const viaContext = async () => {
            t = performance.now();
            const r = await client!.post('/v1/search', { query, mode, k: 10, cache: false, ...(context.length ? { context } : {}) });
            return { ms: performance.now() - t, r };
          };
          const viaConversation = async () => {
            t = performance.now();
            const r = await client!.post(`/v1/conversations/${id}/search`, { query, mode, k: 10, cache: false });
            return { ms: performance.now() - t, r };
          };
          let a: Awaited<ReturnType<typeof viaContext>>;
          let b: Awaited<ReturnType<typeof viaConversation>>;
          if ((c + turn) % 2) [a, b] = [await viaContext(), await viaConversation()];
          else [b, a] = [await viaConversation(), await viaContext()];
          if (a.r.status !== 200 || b.r.status !== 200) throw new Error(`turn ${turn + 1} of conversation ${c}: stateless ${a.r.status}, stateful ${b.r.status}: ${JSON.stringify(b.r.json)}`);
          const ids = (x: unknown) => JSON.stringify((x as { hits: { docId: string }[] }).hits.map((h) => h.docId));
          if (ids(a.r.json) === ids(b.r.json)) same++;
          turns++;
          stateless.push(a.ms);
          stateful.push(b.ms);
          diff.push(b.ms - a.ms);
          context.push({ query: query.replace(/\s+/gu, ' ').trim() });
        }
      }
      added[mode] = percentile(diff, 50);
      lines.push(
        `| ${mode} | ${turns} | ${f2(percentile(stateless, 50))} | ${f2(percentile(stateless, 99))} | ${f2(percentile(stateful, 50))} | ${f2(percentile(stateful, 99))} | ${f2(percentile(diff, 50))} | ${f2(percentile(diff, 99))} | ${f2(percentile(create, 50))} | ${same} / ${turns} |`,
      );
      log(`conversations, ${mode}: stateful-added p50 ${f2(percentile(diff, 50))} ms, ${same} of ${turns} turns with the same hits`);
    }
  } finally {
    client?.close();
    await edge?.stop();
    await cluster?.stop();
  }
  lines.push('', `Target: stateful-added p50 ≤ 3 ms. Measured: ${Object.entries(added).map(([m, v]) => `${m} ${f2(v)} ms`).join(', ')}. ${machineLine()}`, '');
  return lines;
}
