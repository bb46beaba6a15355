import type { MethodPlugin } from '../types.ts';

/**
 * Conversational dense retrieval (ConvDR): the query vector comes from an encoder that reads the
 * whole conversation and was distilled toward the ad hoc encoder's vectors of manual rewrites,
 * so the plain dense index is searched unchanged.
 */
export const conversationalMethod: MethodPlugin = {
  name: 'conversational',
  encodings: ['conversation'],
  branches: ['dense'],
  plan: (q) => [{ branch: 'dense', k: q.k }],
  combine: async (_q, lists) => lists.dense ?? [],
};
