// Offset tracking for the `encodeWithOffsets` path: a normalized string that remembers, for each of
// its UTF-16 units, the [start, end) range of the ORIGINAL text it came from. The rules are those of
// Hugging Face tokenizers' `NormalizedString` (Rust), so offsets match what it reports: a
// transformation is a list of (char, change) where change 0 replaces the next original char,
// -n replaces it and removes n more, +1 inserts a char aligned to the previous one. The fast
// `encode` path never builds these.

export interface Aligned {
  readonly text: string;
  /** Per UTF-16 unit of `text`: start / end (UTF-16, in the original input) of the char it comes from. */
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Original position of the start of this string (what an insertion before everything aligns to). */
  readonly origin: number;
}

/** `text` as its own original, shifted by `origin` (a segment of a longer input). */
export function alignedOf(text: string, origin = 0): Aligned {
  const n = text.length;
  const start = new Int32Array(n);
  const end = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        start[i] = start[i + 1] = origin + i;
        end[i] = end[i + 1] = origin + i + 2;
        i++;
        continue;
      }
    }
    start[i] = origin + i;
    end[i] = origin + i + 1;
  }
  return { text, start, end, origin };
}

export function sliceAligned(a: Aligned, from: number, to: number): Aligned {
  return { text: a.text.slice(from, to), start: a.start.subarray(from, to), end: a.end.subarray(from, to), origin: a.start[from] ?? a.origin };
}

/** Builds a new Aligned char by char. */
export class AlignedBuilder {
  private chars: string[] = [];
  private s: number[] = [];
  private e: number[] = [];
  constructor(private readonly origin: number) {}
  push(ch: string, start: number, end: number): void {
    this.chars.push(ch);
    this.s.push(start);
    this.e.push(end);
    if (ch.length === 2) {
      this.s.push(start);
      this.e.push(end);
    }
  }
  build(): Aligned {
    return { text: this.chars.join(''), start: Int32Array.from(this.s), end: Int32Array.from(this.e), origin: this.origin };
  }
}

/** One output char and its change (see the file comment); `null` char = consume `-change` chars silently. */
export type Change = readonly [ch: string | null, change: number];

const cpLen = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
};

/** Applies `changes` to `src` as Rust's `NormalizedString::transform` does (alignments per char). */
export function transform(src: Aligned, changes: Iterable<Change>, initialOffset = 0): Aligned {
  const b = new AlignedBuilder(src.origin);
  const t = src.text;
  let u = 0;
  for (let k = 0; k < initialOffset && u < t.length; k++) u += cpLen(t, u);
  for (const [ch, change] of changes) {
    if (ch === null) {
      for (let k = 0; k < -change && u < t.length; k++) u += cpLen(t, u);
      continue;
    }
    if (change > 0) {
      if (u === 0) b.push(ch, src.origin, src.origin);
      else b.push(ch, src.start[u - 1], src.end[u - 1]);
      continue;
    }
    if (u < t.length) {
      b.push(ch, src.start[u], src.end[u]);
      u += cpLen(t, u);
    } else b.push(ch, src.origin, src.origin); // cannot happen with consistent changes
    for (let k = 0; k < -change && u < t.length; k++) u += cpLen(t, u);
  }
  return b.build();
}

/** Maps each char to one or more chars (first replaces it, the rest are inserted after it). */
export function mapChars(src: Aligned, f: (ch: string) => string): Aligned {
  const b = new AlignedBuilder(src.origin);
  const t = src.text;
  for (let u = 0; u < t.length; ) {
    const n = cpLen(t, u);
    const ch = n === 1 ? t[u] : t.slice(u, u + 2);
    const out = f(ch);
    for (const o of out) b.push(o, src.start[u], src.end[u]);
    u += n;
  }
  return b.build();
}

/** Keeps the chars for which `keep` holds, each with its own alignment (Rust `filter`). */
export function filterChars(src: Aligned, keep: (ch: string) => boolean): Aligned {
  return mapChars(src, (ch) => (keep(ch) ? ch : ''));
}

// ---------------------------------------------------------------------------------------------
// Unicode normalization with alignments. JS exposes only String.prototype.normalize, so the
// algorithm of Rust's `unicode-normalization-alignments` (which HF uses) is replayed with
// JS-derived data: full decomposition of each char (first piece change 0, the others +1),
// canonical reordering of non-starter runs (stable, by combining class), then canonical
// composition, where a composed char's change is composee + char − 1. Combining classes are
// compared through `normalize('NFD')` on char pairs. Offsets therefore reproduce Rust quirks,
// e.g. reordered marks take the positions of the original marks in order.

const decompCache = new Map<string, string[]>();
const starterCache = new Map<string, boolean>();
const composeCache = new Map<string, string | null>();
const lessCache = new Map<string, boolean>();

function decompose(ch: string, compat: boolean): string[] {
  const cp = ch.codePointAt(0)!;
  if (cp < 0xa0) return [ch];
  const key = (compat ? 'K' : 'C') + ch;
  let d = decompCache.get(key);
  if (!d) {
    d = Array.from(ch.normalize(compat ? 'NFKD' : 'NFD'));
    decompCache.set(key, d);
  }
  return d;
}

/** Combining class 0? (a starter). A char with ccc > 1 swaps with U+0334 (ccc 1) under NFD; ccc 1 swaps with U+0301 (230). */
function isStarter(ch: string): boolean {
  if (ch.codePointAt(0)! < 0x300) return true;
  let s = starterCache.get(ch);
  if (s === undefined) {
    s = !((ch + '\u0334').normalize('NFD') === '\u0334' + ch || ('\u0301' + ch).normalize('NFD') === ch + '\u0301');
    starterCache.set(ch, s);
  }
  return s;
}

/** ccc(a) < ccc(b) for two non-starters: NFD puts b a in the order a b. */
function cccLess(a: string, b: string): boolean {
  const key = a + '\0' + b;
  let r = lessCache.get(key);
  if (r === undefined) {
    r = (b + a).normalize('NFD') === a + b;
    lessCache.set(key, r);
  }
  return r;
}

function composePair(a: string, b: string): string | null {
  if (b.codePointAt(0)! < 0x300) return null; // no composition has a second char below U+0300
  const key = a + b;
  let r = composeCache.get(key);
  if (r === undefined) {
    const c = key.normalize('NFC');
    r = c !== key && Array.from(c).length === 1 ? c : null;
    composeCache.set(key, r);
  }
  return r;
}

type Form = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

function unicodeChanges(text: string, form: Form): Change[] {
  const compat = form === 'NFKC' || form === 'NFKD';
  const buf: { c: string; change: number; starter: boolean }[] = [];
  let run = 0; // start of the current run of non-starters
  const sortRun = () => {
    for (let i = run + 1; i < buf.length; i++) {
      for (let j = i; j > run && cccLess(buf[j].c, buf[j - 1].c); j--) [buf[j], buf[j - 1]] = [buf[j - 1], buf[j]];
    }
  };
  for (const ch of text) {
    const d = decompose(ch, compat);
    for (let j = 0; j < d.length; j++) {
      const starter = isStarter(d[j]);
      if (starter) sortRun();
      buf.push({ c: d[j], change: j === 0 ? 0 : 1, starter });
      if (starter) run = buf.length;
    }
  }
  sortRun();
  if (form === 'NFD' || form === 'NFKD') return buf.map((x) => [x.c, x.change] as const);

  const out: Change[] = [];
  let composee: [string, number] | null = null;
  let last: string | null = null; // last blocked non-starter since the composee
  const pending: Change[] = [];
  for (const { c, change, starter } of buf) {
    if (!composee) {
      if (!starter) out.push([c, change]);
      else composee = [c, change];
      continue;
    }
    if (last !== null && (starter || !cccLess(last, c))) {
      // blocked from the composee
      if (starter) {
        out.push(composee, ...pending);
        pending.length = 0;
        composee = [c, change];
        last = null;
      } else {
        pending.push([c, change]);
        last = c;
      }
      continue;
    }
    const r = composePair(composee[0], c);
    if (r !== null) {
      composee = [r, composee[1] + change - 1];
      continue;
    }
    if (last === null && starter) {
      out.push(composee);
      composee = [c, change];
      continue;
    }
    pending.push([c, change]);
    last = c;
  }
  if (composee) out.push(composee);
  out.push(...pending);
  return out;
}

export function normalizeAligned(src: Aligned, form: Form): Aligned {
  const target = src.text.normalize(form);
  if (target === src.text) return src; // a normalized text maps char to char (checked on the corpora)
  const changes = unicodeChanges(src.text, form);
  let same = true;
  let k = 0;
  for (const [c] of changes) {
    if (c === null || !target.startsWith(c, k)) {
      same = false;
      break;
    }
    k += c.length;
  }
  if (same && k === target.length) return transform(src, changes);
  // Replay disagrees with the engine's tables (should not happen): align everything to the whole span.
  const n = Array.from(src.text).length;
  return transform(src, Array.from(target, (c, i) => [c, i === 0 ? -(n - 1) : 1] as const));
}

