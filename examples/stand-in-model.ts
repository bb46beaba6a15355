// The language model stand-in the examples use where your model goes: no model runs here, so it
// answers "extractively" with the first sentence of source [1] of its prompt (the numbered sources
// of citeHits, or `[n] title` lines followed by the passage). Replace it with a real model.

const FIRST_SENTENCE = /^.*?[.!?](?=\s|$)/;

/** An answer to `prompt` citing source [1], or a line saying the sources were empty. */
export function standInAnswer(prompt: string): string {
  const lines = prompt.split('\n');
  const at = lines.findIndex((l) => l.startsWith('[1] '));
  if (at < 0) return 'I found nothing about that in the collection.';
  const title = lines[at].slice(4).replace(/\s*\(doc [^)]*\)\s*$/, '');
  const answer = lines[at + 1]?.startsWith('Answer: ') ? lines[at + 1].slice(8) : undefined;
  const passage = lines.slice(at + 1).find((l) => l.trim() !== '' && !l.startsWith('Answer: ')) ?? '';
  const sentence = (passage.match(FIRST_SENTENCE)?.[0] ?? passage).replace(/^… /, '');
  return answer ? `${answer} [1]` : `According to "${title}": ${sentence} [1]`;
}
