/** qid → docid → relevance (graded; ≤ 0 means judged non-relevant). */
export type Qrels = Map<string, Map<string, number>>;

export interface RankedDoc {
  docId: string;
  score: number;
}

/** qid → retrieved documents. Order does not matter: evaluation re-ranks by score (see metrics.ts). */
export type Run = Map<string, RankedDoc[]>;
