// Unigram model (SentencePiece-style), as Hugging Face tokenizers runs it (`encode_optimized`):
// Viterbi over the pieces that match at each character, ties kept by the first candidate
// (shorter piece / earlier start), a character that no single-character piece covers becomes
// an unknown node scored `min_score - 10`, and consecutive unknowns are fused into one token.
import { type ComponentJson, type TokenizerModel, UnsupportedTokenizerError } from './types.ts';

const UNK_PENALTY = 10;

interface TrieNode {
  next: Map<number, TrieNode>;
  id: number; // -1 when no piece ends here
}

export class UnigramModel implements TokenizerModel {
  readonly type = 'Unigram' as const;
  readonly vocabSize: number;
  readonly unkId: number;
  readonly fuseUnk: boolean;
  private readonly pieces: string[];
  private readonly scores: Float64Array;
  private readonly ids = new Map<string, number>();
  private readonly root: TrieNode = { next: new Map(), id: -1 };
  private readonly unkScore: number;

  constructor(cfg: ComponentJson) {
    const vocab = cfg.vocab as [string, number | null][] | undefined;
    if (!Array.isArray(vocab) || vocab.length === 0) throw new UnsupportedTokenizerError('Unigram model without a vocab');
    if (cfg.byte_fallback === true)
      throw new UnsupportedTokenizerError('Unigram with byte_fallback is not supported');
    if (typeof cfg.unk_id !== 'number') throw new UnsupportedTokenizerError('Unigram model without unk_id is not supported');
    this.unkId = cfg.unk_id;
    this.fuseUnk = cfg.fuse_unk !== false; // HF default for Unigram: true
    this.vocabSize = vocab.length;
    this.pieces = new Array(vocab.length);
    this.scores = new Float64Array(vocab.length);
    let minScore = Infinity;
    vocab.forEach(([piece, score], id) => {
      const s = typeof score === 'number' ? score : 0;
      this.pieces[id] = piece;
      this.scores[id] = s;
      this.ids.set(piece, id); // a duplicated piece maps to its last id, as in HF
      if (s < minScore) minScore = s;
      let node = this.root;
      for (const ch of piece) {
        const cp = ch.codePointAt(0)!;
        let child = node.next.get(cp);
        if (!child) {
          child = { next: new Map(), id: -1 };
          node.next.set(cp, child);
        }
        node = child;
      }
      node.id = id;
    });
    this.unkScore = minScore - UNK_PENALTY;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.pieces[id];
  }

  tokenize(word: string, out: number[]): void {
    this.run(word, out, null);
  }

  tokenizeWithOffsets(word: string, out: number[], offsets: number[]): void {
    this.run(word, out, offsets);
  }

  /** Viterbi + backtrack; `offsets` (UTF-16 [start, end) per token within `word`) only when asked. */
  private run(word: string, out: number[], offsets: number[] | null): void {
    if (word.length === 0) return;
    const cps = Array.from(word, (ch) => ch.codePointAt(0)!);
    const n = cps.length;
    const bestScore = new Float64Array(n + 1);
    const startAt = new Int32Array(n + 1).fill(-1);
    const bestId = new Int32Array(n + 1);
    for (let start = 0; start < n; start++) {
      const base = bestScore[start];
      let hasSingle = false;
      let node: TrieNode | undefined = this.root;
      for (let end = start; end < n; end++) {
        node = node.next.get(cps[end]);
        if (!node) break;
        if (node.id < 0) continue;
        const cand = this.scores[node.id] + base;
        const at = end + 1;
        if (startAt[at] < 0 || cand > bestScore[at]) {
          bestScore[at] = cand;
          startAt[at] = start;
          bestId[at] = node.id;
        }
        if (end === start) hasSingle = true;
      }
      if (!hasSingle) {
        const at = start + 1;
        const cand = this.unkScore + base;
        if (startAt[at] < 0 || cand > bestScore[at]) {
          bestScore[at] = cand;
          startAt[at] = start;
          bestId[at] = this.unkId;
        }
      }
    }
    // Backtrack, fusing runs of unknown nodes into one token. `ends` collects token ends (in chars).
    const rev: number[] = [];
    const ends: number[] | null = offsets ? [] : null;
    let end = n;
    let unkRunEnd = -1;
    while (end > 0) {
      const start = startAt[end];
      const id = bestId[end];
      if (this.fuseUnk && id === this.unkId) {
        if (unkRunEnd < 0) unkRunEnd = end;
      } else {
        if (unkRunEnd >= 0) {
          rev.push(this.fusedId(cps, end, unkRunEnd));
          ends?.push(unkRunEnd);
        }
        unkRunEnd = -1;
        rev.push(id);
        ends?.push(end);
      }
      end = start;
    }
    if (unkRunEnd >= 0) {
      rev.push(this.fusedId(cps, 0, unkRunEnd));
      ends?.push(unkRunEnd);
    }
    for (let i = rev.length - 1; i >= 0; i--) out.push(rev[i]);
    if (offsets && ends) {
      // char index → UTF-16 index
      let prevChar = 0;
      let prevUnit = 0;
      for (let i = ends.length - 1; i >= 0; i--) {
        let unit = prevUnit;
        for (let c = prevChar; c < ends[i]; c++) unit += cps[c] > 0xffff ? 2 : 1;
        offsets.push(prevUnit, unit);
        prevChar = ends[i];
        prevUnit = unit;
      }
    }
  }

  /** HF maps the fused string back through the vocab (a known piece keeps its id), else unk. */
  private fusedId(cps: number[], from: number, to: number): number {
    if (to - from === 1) return this.unkId;
    return this.ids.get(String.fromCodePoint(...cps.slice(from, to))) ?? this.unkId;
  }
}
