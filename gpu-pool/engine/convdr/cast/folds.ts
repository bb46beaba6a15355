// Cross-validation folds by topic (as ConvDR's five folds on CAsT-19): every turn of a topic falls
// in the same fold, so no conversation is trained and tested on. Deterministic: topics sorted (by
// number when numeric), shuffled with a seeded generator, dealt round-robin.
import { seededRandom, shuffle } from '../../colbert/train/index.ts';

function compareTopics(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `k` folds of topic ids (each sorted), from `topics` (distinct); k ≤ topics. */
export function topicFolds(topics: readonly string[], k: number, seed = 1): string[][] {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`folds must be an integer >= 2, got ${k}`);
  if (k > topics.length) throw new RangeError(`${k} folds need at least ${k} topics, got ${topics.length}`);
  const sorted = [...new Set(topics)].sort(compareTopics);
  const order = shuffle(sorted.length, seededRandom(seed));
  const folds: string[][] = Array.from({ length: k }, () => []);
  order.forEach((idx, i) => folds[i % k].push(sorted[idx]));
  return folds.map((f) => f.sort(compareTopics));
}

/**
 * An inner split of training topics (for choosing weight decay and early stopping): about
 * `fraction` of them (at least one, leaving at least one) held out, deterministically.
 */
export function innerSplit(topics: readonly string[], fraction = 0.2, seed = 7): { train: string[]; validation: string[] } {
  if (topics.length < 2) throw new RangeError(`an inner validation split needs at least 2 training topics, got ${topics.length}`);
  const sorted = [...new Set(topics)].sort(compareTopics);
  const order = shuffle(sorted.length, seededRandom(seed));
  const n = Math.min(sorted.length - 1, Math.max(1, Math.round(sorted.length * fraction)));
  const validation = new Set(order.slice(0, n).map((i) => sorted[i]));
  return { train: sorted.filter((t) => !validation.has(t)), validation: sorted.filter((t) => validation.has(t)) };
}
