// The edgesearch tool in the Vercel AI SDK: generateText gives the model the `search` tool, the
// model calls it, reads the numbered sources and answers citing them as [n]. No model runs in this
// repository, so a scripted stand-in (ai/test's MockLanguageModelV3) plays the model: it calls the
// tool with the question, then answers from source [1]. Put yours in `languageModel()`, e.g.
// `openai('gpt-4o-mini')` from @ai-sdk/openai.
//
//   EDGESEARCH_ENDPOINT=http://127.0.0.1:8787 EDGESEARCH_API_KEY=es_... \
//     node --import tsx examples/ai-sdk-tool.ts "do statins lower dementia risk?"
import { generateText, stepCountIs, type LanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { createClient } from '@edgesearch/client';
import { edgesearchTool, type EdgeSearchToolResult } from '@edgesearch/client/ai-sdk';
import { standInAnswer } from './stand-in-model.ts';

/** Your language model. The stand-in searches for the user's words, then answers from source [1]. */
function languageModel(): LanguageModel {
  const usage = { inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 0, text: 0, reasoning: 0 } };
  return new MockLanguageModelV3({
    doGenerate: async ({ prompt }) => {
      const toolOutput = prompt.flatMap((m) => (m.role === 'tool' ? m.content : [])).find((p) => p.type === 'tool-result')?.output;
      if (!toolOutput) {
        const question = prompt.flatMap((m) => (m.role === 'user' ? m.content : [])).map((p) => (p.type === 'text' ? p.text : '')).join(' ');
        return { content: [{ type: 'tool-call', toolCallId: 'search-1', toolName: 'search', input: JSON.stringify({ query: question }) }], finishReason: { unified: 'tool-calls', raw: undefined }, usage, warnings: [] };
      }
      const sources = toolOutput.type === 'text' ? toolOutput.value : JSON.stringify(toolOutput);
      return { content: [{ type: 'text', text: standInAnswer(sources) }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] };
    },
  });
}

async function main(): Promise<void> {
  const question = process.argv.slice(2).join(' ') || 'statins and dementia risk';
  const apiKey = process.env.EDGESEARCH_API_KEY || undefined;
  const client = createClient({ endpoint: process.env.EDGESEARCH_ENDPOINT ?? 'http://127.0.0.1:8787', ...(apiKey ? { apiKey } : {}) });

  const result = await generateText({
    model: languageModel(),
    system: 'Answer with the search tool\'s sources only, citing them as [n].',
    prompt: question,
    tools: { search: edgesearchTool({ client, k: 4 }) },
    // One step for the tool call, one for the answer.
    stopWhen: stepCountIs(3),
  });

  console.log(`question: ${question}`);
  console.log(`answer: ${result.text}`);
  for (const call of result.steps.flatMap((s) => s.toolResults)) {
    const out = call.output as EdgeSearchToolResult;
    console.log(`tool ${call.toolName}(${JSON.stringify(call.input)}): ${out.hits.length} hits (${out.mode})`);
    for (const h of out.hits) console.log(`  [${h.n}] ${h.title || '(untitled)'} (doc ${h.docId}, score ${h.score.toFixed(4)})`);
  }
  // A tool that threw (an API error, say) is shown to the model as an error, not thrown here.
  for (const part of result.steps.flatMap((s) => s.content)) {
    if (part.type !== 'tool-error') continue;
    console.error(`tool ${part.toolName} failed: ${part.error instanceof Error ? part.error.message : String(part.error)}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
