// Cutting text into model inputs: query truncation and document windows. Pure functions over
// token ids (no special tokens; the encoder adds them), so they are cheap to test.

export interface WindowPlan {
  /** Longest model input, special tokens included. */
  maxTokens: number;
  /** Tokens the encoder adds to every row: post-processor specials + marker token. */
  reserved: number;
  /** Longest body slice per window. */
  windowSize: number;
  /** Distance between window starts for a body slice of `windowSize` (scaled for shorter slices). */
  stride: number;
  titleMaxTokens: number;
  /** Used when a row would otherwise be empty (the graph must never see an all-padding row). */
  fallbackToken: number;
}

function concat(parts: ArrayLike<number>[]): Int32Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Room for content in one row (prefix, title and body), after specials and marker. */
export function contentRoom(plan: WindowPlan): number {
  const room = plan.maxTokens - plan.reserved;
  if (room < 1) throw new Error(`maxTokens ${plan.maxTokens} leaves no room after ${plan.reserved} special tokens`);
  return room;
}

/** Query row content: `tokens` (prefix already in) cut to the room left by the specials; never empty. */
export function truncateQuery(tokens: Int32Array, plan: WindowPlan): Int32Array {
  if (tokens.length === 0) return Int32Array.of(plan.fallbackToken);
  const room = contentRoom(plan);
  return tokens.length > room ? tokens.slice(0, room) : tokens;
}

/**
 * Document windows. Each window is `prefix + title + body slice`:
 * - the title is cut to `titleMaxTokens` (and to half of the room, so a long prefix cannot starve the body) and is
 *   repeated in EVERY window;
 * - body slices have length `min(windowSize, room - prefix - title)` so `specials + prefix + title + slice ≤ maxTokens`;
 * - slices start every `round(sliceLength * stride / windowSize)` tokens (the stride ratio is kept) until one reaches
 *   the end of the body; the last slice may be shorter;
 * - a document whose body fits is one window; an empty document is one window of `fallbackToken`.
 */
export function splitWindows(
  prefix: Int32Array,
  title: Int32Array,
  body: Int32Array,
  plan: WindowPlan,
): Int32Array[] {
  const room = contentRoom(plan) - prefix.length;
  if (room < 1) throw new Error(`the document prefix (${prefix.length} tokens) leaves no room in ${plan.maxTokens} tokens`);
  const titleCap = Math.min(plan.titleMaxTokens, Math.floor(room / 2));
  const head = concat([prefix, title.subarray(0, titleCap)]);
  const sliceLen = Math.min(plan.windowSize, room - Math.min(title.length, titleCap));
  if (body.length <= sliceLen) {
    const w = concat([head, body]);
    return [w.length > 0 ? w : Int32Array.of(plan.fallbackToken)];
  }
  const step = Math.max(1, Math.round((sliceLen * plan.stride) / plan.windowSize));
  const windows: Int32Array[] = [];
  for (let start = 0; ; start += step) {
    const end = Math.min(start + sliceLen, body.length);
    windows.push(concat([head, body.subarray(start, end)]));
    if (end >= body.length) break;
  }
  return windows;
}
