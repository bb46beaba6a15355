import { analyze } from './analyze.ts';
import { Bm25Index } from './bm25-index.ts';
import { MAX_TF, type Postings } from './postings.ts';

/** A Uint32Array that doubles when full: amortised O(1) appends without a JS array's boxing. */
class GrowableU32 {
  data = new Uint32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * Write path of a BM25 index: documents in ordinal order (0, 1, 2, ...), then `build()`.
 * While adding, postings are kept in document order (term id, tf per posting); `build()`
 * regroups them by term with one counting pass, so memory stays a few typed arrays.
 */
export class Bm25Builder {
  private readonly termIds = new Map<string, number>();
  private readonly termList: string[] = [];
  private readonly df = new GrowableU32();
  private readonly postingTerms = new GrowableU32();
  private readonly postingTfs = new GrowableU32();
  /** Postings of document d are postingTerms[docEnds[d-1] .. docEnds[d]). */
  private readonly docEnds = new GrowableU32();
  private readonly docLengths = new GrowableU32();
  private readonly counts = new Map<number, number>();
  private built = false;

  get docCount(): number {
    return this.docLengths.length;
  }

  /** `docOrdinal` must be the next ordinal: the index maps ordinals to documents by position. */
  add(docOrdinal: number, text: string): void {
    if (this.built) throw new Error('Bm25Builder: add() after build()');
    if (docOrdinal !== this.docCount) {
      throw new RangeError(`Bm25Builder: documents must be added in order; expected ordinal ${this.docCount}, got ${docOrdinal}`);
    }
    const tokens = analyze(text);
    const counts = this.counts;
    counts.clear();
    for (const token of tokens) {
      let id = this.termIds.get(token);
      if (id === undefined) {
        id = this.termList.length;
        this.termIds.set(token, id);
        this.termList.push(token);
        this.df.push(0);
      }
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, tf] of counts) {
      this.postingTerms.push(id);
      this.postingTfs.push(tf);
      this.df.data[id]++;
    }
    this.docEnds.push(this.postingTerms.length);
    this.docLengths.push(tokens.length);
  }

  /** Regroups postings by term (terms sorted); the builder cannot be used afterwards. */
  build(): Bm25Index {
    if (this.built) throw new Error('Bm25Builder: build() called twice');
    this.built = true;
    const termCount = this.termList.length;
    const order = Array.from({ length: termCount }, (_, i) => i).sort((a, b) => compare(this.termList[a], this.termList[b]));
    const newId = new Uint32Array(termCount);
    for (let rank = 0; rank < termCount; rank++) newId[order[rank]] = rank;

    const offsets = new Uint32Array(termCount + 1);
    for (let old = 0; old < termCount; old++) offsets[newId[old] + 1] = this.df.data[old];
    for (let t = 0; t < termCount; t++) offsets[t + 1] += offsets[t];

    const postingCount = this.postingTerms.length;
    const docs = new Uint32Array(postingCount);
    const tfs = new Uint16Array(postingCount);
    const cursor = offsets.slice(0, termCount);
    const terms = this.postingTerms.data;
    const termTfs = this.postingTfs.data;
    const ends = this.docEnds.data;
    // Documents in ascending order, so every posting list comes out sorted by ordinal.
    for (let d = 0, p = 0; d < this.docCount; d++) {
      for (const end = ends[d]; p < end; p++) {
        const at = cursor[newId[terms[p]]]++;
        docs[at] = d;
        tfs[at] = Math.min(termTfs[p], MAX_TF);
      }
    }
    const postings: Postings = {
      terms: order.map((i) => this.termList[i]),
      offsets,
      docs,
      tfs,
      docLengths: this.docLengths.view().slice(),
    };
    return new Bm25Index(postings);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
