// Added tokens (e.g. [CLS], [SEP], [MASK] in BERT tokenizers) are matched in the raw input text
// before normalization, as HF does, and map straight to their ids. Longest content wins;
// lstrip/rstrip swallow neighbouring whitespace; single_word requires word boundaries.
import type { AddedTokenJson } from './types.ts';

export type Segment = { text: string } | { id: number };

const WORD_CHAR = /[\p{L}\p{N}\p{M}\p{Pc}]/u;

export function buildAddedTokenSplitter(tokens: AddedTokenJson[] | undefined): (text: string) => Segment[] {
  const list = (tokens ?? []).filter((t) => t.content.length > 0).sort((a, b) => b.content.length - a.content.length);
  if (list.length === 0) return (text) => [{ text }];
  return (text) => {
    const out: Segment[] = [];
    let pending = '';
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
        if (t.lstrip) pending = pending.trimEnd();
        if (pending) out.push({ text: pending });
        pending = '';
        out.push({ id: t.id });
        i = end;
        if (t.rstrip) while (i < text.length && /\s/.test(text[i])) i++;
        continue outer;
      }
      pending += text[i];
      i++;
    }
    if (pending) out.push({ text: pending });
    return out;
  };
}
