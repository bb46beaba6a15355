// WordPiece model (BERT): greedy longest-match-first within a word, continuation pieces carry
// the `##` prefix; a word that cannot be covered, or is longer than max_input_chars_per_word,
// becomes one unknown token.
import { type ComponentJson, type TokenizerModel, UnsupportedTokenizerError } from './types.ts';

export class WordPieceModel implements TokenizerModel {
  readonly type = 'WordPiece' as const;
  readonly vocabSize: number;
  readonly unkId: number;
  private readonly vocab = new Map<string, number>();
  private readonly tokens: string[] = [];
  private readonly prefix: string;
  private readonly maxChars: number;

  constructor(cfg: ComponentJson) {
    const vocab = cfg.vocab as Record<string, number> | undefined;
    if (!vocab || typeof vocab !== 'object') throw new UnsupportedTokenizerError('WordPiece model without a vocab');
    for (const [tok, id] of Object.entries(vocab)) {
      this.vocab.set(tok, id);
      this.tokens[id] = tok;
    }
    this.vocabSize = this.vocab.size;
    const unk = String(cfg.unk_token ?? '[UNK]');
    const unkId = this.vocab.get(unk);
    if (unkId === undefined) throw new UnsupportedTokenizerError(`WordPiece unk_token ${unk} is not in the vocab`);
    this.unkId = unkId;
    this.prefix = String(cfg.continuing_subword_prefix ?? '##');
    this.maxChars = typeof cfg.max_input_chars_per_word === 'number' ? cfg.max_input_chars_per_word : 100;
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  tokenize(word: string, out: number[]): void {
    this.run(word, out, null);
  }

  tokenizeWithOffsets(word: string, out: number[], offsets: number[]): void {
    this.run(word, out, offsets);
  }

  private run(word: string, out: number[], offsets: number[] | null): void {
    const chars = Array.from(word);
    if (chars.length === 0) return;
    if (chars.length > this.maxChars) {
      out.push(this.unkId);
      offsets?.push(0, word.length);
      return;
    }
    const pieces: number[] = [];
    const ends: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found = -1;
      while (start < end) {
        let sub = chars.slice(start, end).join('');
        if (start > 0) sub = this.prefix + sub;
        const id = this.vocab.get(sub);
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) {
        // the whole word is one unknown token
        out.push(this.unkId);
        offsets?.push(0, word.length);
        return;
      }
      pieces.push(found);
      ends.push(end);
      start = end;
    }
    for (const id of pieces) out.push(id);
    if (offsets) {
      let unit = 0;
      let c = 0;
      for (const e of ends) {
        const from = unit;
        for (; c < e; c++) unit += chars[c].length;
        offsets.push(from, unit);
      }
    }
  }
}
