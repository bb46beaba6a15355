// A LangChain.js RAG chain over edgesearch: retriever -> numbered sources -> prompt -> chat model
// -> string. The model is pluggable: a stand-in answers here (no model runs in this repository);
// put yours in `chatModel()`, e.g. `new ChatOpenAI({ model: 'gpt-4o-mini' })` from @langchain/openai.
//
//   EDGESEARCH_ENDPOINT=http://127.0.0.1:8787 EDGESEARCH_API_KEY=es_... \
//     node --import tsx examples/langchain-rag.ts "do statins lower dementia risk?"
import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import { AIMessage } from '@langchain/core/messages';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { RunnableLambda, RunnablePassthrough, RunnableSequence, type Runnable } from '@langchain/core/runnables';
import { EdgeSearchRetriever, type EdgeSearchDocument } from '@edgesearch/client/langchain';
import { standInAnswer } from './stand-in-model.ts';

/** Your chat model. The stand-in reads the prompt and answers with the first sentence of source [1]. */
function chatModel(): Runnable<BaseLanguageModelInput, AIMessage> {
  return RunnableLambda.from((input: BaseLanguageModelInput) => {
    const text = typeof input === 'string' ? input : 'toChatMessages' in input ? input.toString() : JSON.stringify(input);
    return new AIMessage(standInAnswer(text));
  });
}

/** The documents as numbered sources, the numbers the model cites. */
function formatDocs(docs: EdgeSearchDocument[]): string {
  return docs.map((d, i) => `[${i + 1}] ${d.metadata.title || '(untitled)'} (doc ${d.id})\n${d.pageContent}`).join('\n\n');
}

const prompt = ChatPromptTemplate.fromMessages([
  ['system', 'Answer the question using only the numbered sources below, and cite each claim as [n]. If they do not answer it, say so.\n\nSources:\n{context}'],
  ['human', '{question}'],
]);

async function main(): Promise<void> {
  const question = process.argv.slice(2).join(' ') || 'statins and dementia risk';
  const retriever = new EdgeSearchRetriever({
    endpoint: process.env.EDGESEARCH_ENDPOINT ?? 'http://127.0.0.1:8787',
    ...(process.env.EDGESEARCH_API_KEY ? { apiKey: process.env.EDGESEARCH_API_KEY } : {}),
    mode: 'hybrid',
    k: 4,
  });

  // docs are kept next to the answer, so the sources can be listed under it.
  const answerChain = RunnableSequence.from([
    (input: { question: string; docs: EdgeSearchDocument[] }) => ({ question: input.question, context: formatDocs(input.docs) }),
    prompt,
    chatModel(),
    new StringOutputParser(),
  ]);
  const chain = RunnablePassthrough.assign({ docs: (input: { question: string }) => retriever.invoke(input.question) }).assign({ answer: answerChain });

  const { answer, docs } = await chain.invoke({ question });
  console.log(`question: ${question}`);
  console.log(`answer: ${answer}`);
  console.log('sources:');
  for (const [i, d] of docs.entries()) console.log(`  [${i + 1}] ${d.metadata.title || '(untitled)'} (doc ${d.id}, score ${d.metadata.score.toFixed(4)})`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
