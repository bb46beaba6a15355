// BPE model (GPT-2 / RoBERTa byte-level, and SentencePiece-style with byte_fallback), as Hugging
// Face tokenizers runs it: each char is a symbol (unknown chars become byte tokens <0xXX> with
// byte_fallback, else the unk token, fused when fuse_unk), then merges are applied lowest rank
// first, leftmost first on equal rank, until none applies.
import { type ComponentJson, type TokenizerModel, UnsupportedTokenizerError } from './types.ts';

const encoder = new TextEncoder();

/** Min-heap of merge candidates keyed by (rank, pos), as HF's BinaryHeap<Merge>. */
class MergeQueue {
  private rank: number[] = [];
  private pos: number[] = [];
  private newId: number[] = [];
  get size(): number {
    return this.rank.length;
  }
  private less(i: number, j: number): boolean {
    return this.rank[i] < this.rank[j] || (this.rank[i] === this.rank[j] && this.pos[i] < this.pos[j]);
  }
  private swap(i: number, j: number): void {
    [this.rank[i], this.rank[j]] = [this.rank[j], this.rank[i]];
    [this.pos[i], this.pos[j]] = [this.pos[j], this.pos[i]];
    [this.newId[i], this.newId[j]] = [this.newId[j], this.newId[i]];
  }
  push(rank: number, pos: number, newId: number): void {
    this.rank.push(rank);
    this.pos.push(pos);
    this.newId.push(newId);
    for (let i = this.rank.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): [rank: number, pos: number, newId: number] {
    const top: [number, number, number] = [this.rank[0], this.pos[0], this.newId[0]];
    const last = this.rank.length - 1;
    this.swap(0, last);
    this.rank.pop();
    this.pos.pop();
    this.newId.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

export class BpeModel implements TokenizerModel {
  readonly type = 'BPE' as const;
  readonly vocabSize: number;
  readonly unkId: number;
  private readonly vocab = new Map<string, number>();
  private readonly tokens: string[] = [];
  /** (leftId, rightId) → [rank, newId], keyed leftId * vocabSpan + rightId. */
  private readonly merges = new Map<number, [number, number]>();
  private readonly span: number;
  private readonly prefix: string | null;
  private readonly suffix: string | null;
  private readonly fuseUnk: boolean;
  private readonly byteFallback: boolean;
  private readonly ignoreMerges: boolean;
  private readonly cache = new Map<string, { ids: number[]; offsets: number[] }>();

  constructor(cfg: ComponentJson) {
    const vocab = cfg.vocab as Record<string, number> | undefined;
    if (!vocab || typeof vocab !== 'object') throw new UnsupportedTokenizerError('BPE model without a vocab');
    if (cfg.dropout !== undefined && cfg.dropout !== null && cfg.dropout !== 0)
      throw new UnsupportedTokenizerError('BPE with dropout is not supported (it is random)');
    let maxId = 0;
    for (const [tok, id] of Object.entries(vocab)) {
      this.vocab.set(tok, id);
      this.tokens[id] = tok;
      if (id > maxId) maxId = id;
    }
    this.vocabSize = this.vocab.size;
    this.span = maxId + 1;
    this.prefix = typeof cfg.continuing_subword_prefix === 'string' ? cfg.continuing_subword_prefix : null;
    this.suffix = typeof cfg.end_of_word_suffix === 'string' ? cfg.end_of_word_suffix : null;
    this.fuseUnk = cfg.fuse_unk === true;
    this.byteFallback = cfg.byte_fallback === true;
    this.ignoreMerges = cfg.ignore_merges === true;
    const unk = typeof cfg.unk_token === 'string' ? cfg.unk_token : null;
    const unkId = unk === null ? undefined : this.vocab.get(unk);
    if (unk !== null && unkId === undefined) throw new UnsupportedTokenizerError(`BPE unk_token ${unk} is not in the vocab`);
    this.unkId = unkId ?? -1;
    const merges = (cfg.merges ?? []) as (string | [string, string])[];
    const prefixLen = this.prefix?.length ?? 0;
    merges.forEach((m, rank) => {
      let a: string;
      let b: string;
      if (Array.isArray(m)) [a, b] = m;
      else {
        const sp = m.indexOf(' ', 1); // "a b"; the first char may itself be a space in odd vocabs
        if (sp < 0) throw new UnsupportedTokenizerError(`BPE merge ${JSON.stringify(m)} is not "a b"`);
        a = m.slice(0, sp);
        b = m.slice(sp + 1);
      }
      const ia = this.vocab.get(a);
      const ib = this.vocab.get(b);
      if (ia === undefined || ib === undefined) throw new UnsupportedTokenizerError(`BPE merge ${a} ${b}: token not in the vocab`);
      const merged = a + (prefixLen > 0 && this.prefix !== null && b.startsWith(this.prefix) ? b.slice(prefixLen) : b);
      const id = this.vocab.get(merged);
      if (id === undefined) throw new UnsupportedTokenizerError(`BPE merge ${a} ${b}: ${merged} not in the vocab`);
      const key = ia * this.span + ib;
      if (!this.merges.has(key)) this.merges.set(key, [rank, id]);
    });
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  tokenize(word: string, out: number[]): void {
    for (const id of this.word(word).ids) out.push(id);
  }

  tokenizeWithOffsets(word: string, out: number[], offsets: number[]): void {
    const w = this.word(word);
    for (const id of w.ids) out.push(id);
    for (const o of w.offsets) offsets.push(o);
  }

  private word(word: string): { ids: number[]; offsets: number[] } {
    let r = this.cache.get(word);
    if (!r) {
      r = this.merge(word);
      if (this.cache.size > 100_000) this.cache.clear(); // words repeat; bound the memory
      this.cache.set(word, r);
    }
    return r;
  }

  private merge(word: string): { ids: number[]; offsets: number[] } {
    if (word.length === 0) return { ids: [], offsets: [] };
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return { ids: [id], offsets: [0, word.length] };
    }
    // Symbols: id and [start, end) in UTF-16 units of `word`.
    const ids: number[] = [];
    const st: number[] = [];
    const en: number[] = [];
    let unk: [id: number, start: number, end: number] | null = null;
    const flushUnk = () => {
      if (unk) {
        ids.push(unk[0]);
        st.push(unk[1]);
        en.push(unk[2]);
        unk = null;
      }
    };
    for (let i = 0; i < word.length; ) {
      const n = word.codePointAt(i)! > 0xffff ? 2 : 1;
      const ch = word.slice(i, i + n);
      let s = ch;
      if (i > 0 && this.prefix !== null) s = this.prefix + s;
      if (i + n === word.length && this.suffix !== null) s = s + this.suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        flushUnk();
        ids.push(id);
        st.push(i);
        en.push(i + n);
      } else {
        let done = false;
        if (this.byteFallback) {
          const bytes = Array.from(encoder.encode(s), (b) => this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
          if (bytes.every((b) => b !== undefined)) {
            // HF does not flush a pending unk here; byte tokens each span the whole char.
            for (const b of bytes) {
              ids.push(b!);
              st.push(i);
              en.push(i + n);
            }
            done = true;
          }
        }
        if (!done && this.unkId >= 0) {
          if (unk && this.fuseUnk) unk[2] = i + n;
          else {
            flushUnk();
            unk = [this.unkId, i, i + n];
          }
        }
        // no unk token: HF drops the char
      }
      i += n;
    }
    flushUnk();
    this.applyMerges(ids, st, en);
    const offsets: number[] = [];
    const outIds: number[] = [];
    for (let k = 0; k < ids.length; k++) {
      if (ids[k] < 0) continue;
      outIds.push(ids[k]);
      offsets.push(st[k], en[k]);
    }
    return { ids: outIds, offsets };
  }

  /** HF `Word::merge_all`: a removed symbol gets id -1. */
  private applyMerges(ids: number[], st: number[], en: number[]): void {
    const n = ids.length;
    if (n < 2 || this.merges.size === 0) return;
    const prev = Array.from({ length: n }, (_, i) => i - 1);
    const next = Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const q = new MergeQueue();
    for (let i = 0; i + 1 < n; i++) {
      const m = this.merges.get(ids[i] * this.span + ids[i + 1]);
      if (m) q.push(m[0], i, m[1]);
    }
    while (q.size > 0) {
      const [, pos, newId] = q.pop();
      if (ids[pos] < 0 || next[pos] < 0) continue;
      const right = next[pos];
      const cur = this.merges.get(ids[pos] * this.span + ids[right]);
      if (!cur || cur[1] !== newId) continue; // stale entry
      ids[pos] = newId;
      en[pos] = en[right];
      ids[right] = -1;
      next[pos] = next[right];
      if (next[right] >= 0) prev[next[right]] = pos;
      if (prev[pos] >= 0) {
        const m = this.merges.get(ids[prev[pos]] * this.span + newId);
        if (m) q.push(m[0], prev[pos], m[1]);
      }
      if (next[pos] >= 0) {
        const m = this.merges.get(newId * this.span + ids[next[pos]]);
        if (m) q.push(m[0], pos, m[1]);
      }
    }
  }
}
