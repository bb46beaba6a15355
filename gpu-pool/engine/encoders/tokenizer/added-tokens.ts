// Added tokens (e.g. [CLS], [SEP], [MASK] in BERT tokenizers) are matched in the raw input text
// before normalization, as HF does, and map straight to their ids. Longest content wins;
// lstrip/rstrip swallow neighbouring whitespace; single_word requires word boundaries.
import type { AddedTokenJson } from './types.ts';

/** Text between added tokens (`start`: where it begins in the input), or an added token and the
 *  input range it matched (with the whitespace lstrip/rstrip swallowed, as HF reports it). */
export type Segment = { text: string; start: number } | { id: number; start: number; end: number };

const WORD_CHAR = /[\p{L}\p{N}\p{M}\p{Pc}]/u;

export function buildAddedTokenSplitter(tokens: AddedTokenJson[] | undefined): (text: string) => Segment[] {
  const list = (tokens ?? []).filter((t) => t.content.length > 0).sort((a, b) => b.content.length - a.content.length);
  if (list.length === 0) return (text) => [{ text, start: 0 }];
  return (text) => {
    const out: Segment[] = [];
    let pending = '';
    let pendingStart = 0;
    let i = 0;
    outer: while (i < text.length) {
      for (const t of list) {
        if (!text.startsWith(t.content, i)) continue;
        const end = i + t.content.length;
        if (t.single_word) {
          const before = i > 0 ? text[i - 1] : '';
          const after = end < text.length ? text[end] : '';
          if ((before && WORD_CHAR.test(before)) || (after && WORD_CHAR.test(after))) continue;
        }
        let from = i;
        if (t.lstrip) {
          pending = pending.replace(/\p{White_Space}+$/u, '');
          from = pendingStart + pending.length;
        }
        if (pending) out.push({ text: pending, start: pendingStart });
        pending = '';
        i = end;
        if (t.rstrip) while (i < text.length && /\p{White_Space}/u.test(text[i])) i++;
        out.push({ id: t.id, start: from, end: i });
        pendingStart = i;
        continue outer;
      }
      pending += text[i];
      i++;
    }
    if (pending) out.push({ text: pending, start: pendingStart });
    return out;
  };
}
