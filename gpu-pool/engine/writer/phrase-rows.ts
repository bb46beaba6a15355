// How the encode stage (resumable, checkpointed rows of float32) carries phrase data: one row per
// passage token, [start (d) | end (d) | charStart | charEnd | flags], 2d + 3 floats, and with a
// model that has a phrase filter one more, the token's start likelihood (2d + 4): the threshold is
// applied when the store is written, so a resumed build may use another. Offsets and flags are
// small integers, exact in float32 (passages are far shorter than 2^24 characters).
import type { PassagePhrases } from '../phrase/model/index.ts';

export const phraseRowWidth = (d: number, filter = false): number => 2 * d + 3 + (filter ? 1 : 0);

export function packPhraseRows(p: PassagePhrases, d: number, filter = false): Float32Array {
  const w = phraseRowWidth(d, filter);
  if (filter && p.filter?.length !== p.tokens) throw new Error(`phrase rows: the passage has ${p.filter?.length ?? 'no'} filter scores for its ${p.tokens} tokens`);
  const out = new Float32Array(p.tokens * w);
  const b = p.boundaries;
  for (let t = 0; t < p.tokens; t++) {
    const o = t * w;
    out.set(p.starts.subarray(t * d, (t + 1) * d), o);
    out.set(p.ends.subarray(t * d, (t + 1) * d), o + d);
    out[o + 2 * d] = b.charStart[t];
    out[o + 2 * d + 1] = b.charEnd[t];
    out[o + 2 * d + 2] = b.canStart[t] | (b.canEnd[t] << 1);
    if (filter) out[o + 2 * d + 3] = p.filter![t];
  }
  return out;
}

/** The inverse of packPhraseRows for `rows` consecutive rows of one passage. */
export function unpackPhraseRows(rows: Float32Array, n: number, d: number, filter = false): PassagePhrases {
  const w = phraseRowWidth(d, filter);
  if (rows.length !== n * w) throw new Error(`phrase rows: ${rows.length} floats for ${n} rows of ${w}`);
  const starts = new Float32Array(n * d);
  const ends = new Float32Array(n * d);
  const charStart = new Int32Array(n);
  const charEnd = new Int32Array(n);
  const canStart = new Uint8Array(n);
  const canEnd = new Uint8Array(n);
  const scores = filter ? new Float32Array(n) : undefined;
  for (let t = 0; t < n; t++) {
    const o = t * w;
    starts.set(rows.subarray(o, o + d), t * d);
    ends.set(rows.subarray(o + d, o + 2 * d), t * d);
    charStart[t] = rows[o + 2 * d];
    charEnd[t] = rows[o + 2 * d + 1];
    const flags = rows[o + 2 * d + 2];
    canStart[t] = flags & 1;
    canEnd[t] = (flags >> 1) & 1;
    if (scores) scores[t] = rows[o + 2 * d + 3];
  }
  return { tokens: n, starts, ends, boundaries: { charStart, charEnd, canStart, canEnd }, ...(scores ? { filter: scores } : {}) };
}
