// The student's input: each view (a policy's text, cut to the encoder's window exactly as search
// forms it) encoded by the frozen sentence encoder, the view vectors side by side. Training and the
// loaded model both go through viewFeatures, so the student sees in training what it sees serving.
import { formQueryText, type ConversationQuery, type Policy } from '../../conversation/index.ts';
import type { Encoder } from '../../encoders/index.ts';
import { sentenceBudget } from '../../methods/index.ts';

/** Each query's view texts, in `views` order. */
export function viewTexts(encoder: Pick<Encoder, 'maxTokens' | 'tokenize'>, queries: readonly ConversationQuery[], views: readonly Policy[]): string[][] {
  const budget = sentenceBudget(encoder);
  return queries.map((q) => views.map((v) => formQueryText(q.text, q.context, v, budget)));
}

/**
 * Encodes texts once each (a turn's views are often the same text, e.g. on the first turn) and
 * returns n × dimension vectors in input order.
 */
export async function encodeDistinct(encoder: Pick<Encoder, 'encodeQueries' | 'dimension'>, texts: readonly string[]): Promise<Float32Array> {
  const index = new Map<string, number>();
  const distinct: string[] = [];
  for (const t of texts) if (!index.has(t)) index.set(t, distinct.push(t) - 1);
  const vectors = distinct.length > 0 ? await encoder.encodeQueries(distinct) : new Float32Array(0);
  const d = encoder.dimension;
  const out = new Float32Array(texts.length * d);
  texts.forEach((t, i) => out.set(vectors.subarray(index.get(t)! * d, (index.get(t)! + 1) * d), i * d));
  return out;
}

/** n × (views × dimension): the view vectors of each query side by side. */
export async function viewFeatures(encoder: Pick<Encoder, 'encodeQueries' | 'dimension' | 'maxTokens' | 'tokenize'>, queries: readonly ConversationQuery[], views: readonly Policy[]): Promise<Float32Array> {
  return encodeDistinct(encoder, viewTexts(encoder, queries, views).flat());
}
