// A minimal retrieval chatbot that keeps its conversation at the edge: every user turn is a turn
// of a stored conversation (so "Is it treatable?" is searched with the questions before it), the
// hits go into the prompt as numbered sources, and the bot's answer is recorded on the turn so
// later turns search with it too (policy concat+responses).
//
//   EDGESEARCH_ENDPOINT=http://127.0.0.1:8787 EDGESEARCH_API_KEY=es_... \
//     node --import tsx examples/chatbot-loop.ts "do statins lower dementia risk?" "at what dose?"
//
// With no arguments it reads one user turn per line of stdin. `generate` below is where your
// language model goes; until then a stand-in answers with the first sentence of source [1].
import { createInterface } from 'node:readline';
import { citeHits, createClient, EdgeSearchConnectionError, EdgeSearchError, type ConversationSearchResponse } from '@edgesearch/client';
import { standInAnswer } from './stand-in-model.ts';

/** Your language model: a prompt in, the answer out. Replace the stand-in with a real call. */
async function generate(prompt: string): Promise<string> {
  return standInAnswer(prompt);
}

const SOURCES_PER_TURN = 3;
/** What the policy uses from the turns before: their queries and the answers recorded on them. */
const POLICY = 'concat+responses';
/** Recorded answers count against the conversation's size (16 KiB by default); keep them short. */
const MAX_RECORDED_CHARS = 1000;
/** Turns of chat history put in the prompt (the edge keeps its own for retrieval). */
const HISTORY_IN_PROMPT = 4;

interface Exchange {
  question: string;
  answer: string;
}

function buildPrompt(question: string, res: ConversationSearchResponse, history: Exchange[]): string {
  const past = history.slice(-HISTORY_IN_PROMPT).flatMap((x) => [`user: ${x.question}`, `assistant: ${x.answer}`]);
  return [
    'Answer the question using only the numbered sources below, and cite each claim as [n].',
    'If the sources do not answer it, say so.',
    '',
    'Sources:',
    citeHits(res, { maxPassageChars: 800 }),
    ...(past.length ? ['', 'Conversation so far:', ...past] : []),
    '',
    `Question: ${question}`,
  ].join('\n');
}

/** User turns: the command-line arguments, or else the lines of stdin. */
async function* userTurns(): AsyncGenerator<string> {
  const args = process.argv.slice(2);
  if (args.length > 0) {
    yield* args;
    return;
  }
  const lines = createInterface({ input: process.stdin, terminal: false });
  if (process.stdin.isTTY) process.stdout.write('Ask a question (Ctrl-D to end).\n');
  for await (const line of lines) if (line.trim()) yield line.trim();
}

async function main(): Promise<void> {
  const endpoint = process.env.EDGESEARCH_ENDPOINT ?? 'http://127.0.0.1:8787';
  const apiKey = process.env.EDGESEARCH_API_KEY || undefined;
  const client = createClient({ endpoint, ...(apiKey ? { apiKey } : {}) });

  let conversation = (await client.conversations.create()).id;
  console.log(`conversation ${conversation} (stored at ${endpoint})`);
  const history: Exchange[] = [];

  for await (const question of userTurns()) {
    let res: ConversationSearchResponse;
    try {
      res = await client.conversations.search(conversation, { query: question, k: SOURCES_PER_TURN, params: { policy: POLICY } });
    } catch (err) {
      // A full conversation (too many turns or bytes) is a 413: go on in a fresh one.
      if (!(err instanceof EdgeSearchError && err.status === 413)) throw err;
      conversation = (await client.conversations.create()).id;
      history.length = 0;
      console.log(`(the conversation is full; going on in a new one, ${conversation})`);
      res = await client.conversations.search(conversation, { query: question, k: SOURCES_PER_TURN, params: { policy: POLICY } });
    }
    const answer = await generate(buildPrompt(question, res, history));
    await client.conversations.recordResponse(conversation, res.turn, answer.slice(0, MAX_RECORDED_CHARS));
    history.push({ question, answer });

    console.log(`\nyou: ${question}`);
    console.log(`bot: ${answer}`);
    for (const [i, hit] of res.hits.entries()) console.log(`  [${i + 1}] ${hit.title || '(untitled)'} (doc ${hit.docId})`);
  }
  console.log(`\n${history.length} turns stored in conversation ${conversation}`);
}

main().catch((err: unknown) => {
  if (err instanceof EdgeSearchConnectionError) console.error(`${err.message}\nIs the service running (npm start) at EDGESEARCH_ENDPOINT?`);
  else console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
