// Training data for target optimization: queries (their text) and qrels (which documents answer
// them), resolved against the documents of the index being optimized. Judgments that name a
// document the index lacks, or a query the queries file lacks, are counted with examples and
// either skipped or rejected, as the caller chooses: a qrels file for another corpus must not
// train silently on the few ids that happen to match.
import { InputError, readQueries } from '../corpus/index.ts';
import { readJudgments } from '../eval/index.ts';

export type UnknownPolicy = 'skip' | 'reject';

export interface UnknownLines {
  count: number;
  /** The first few, with their qrels line. */
  examples: { qid: string; docId: string; line: number }[];
}

export interface TrainingSetReport {
  /** Judgments read (relevance > 0; lower grades are not training signal). */
  judgments: number;
  /** Judgments used: their query and document are both known. */
  used: number;
  unknownDocs: UnknownLines;
  unknownQueries: UnknownLines;
}

export interface TrainingSet {
  /** Queries with at least one usable relevant document, in qrels order. */
  ids: string[];
  texts: string[];
  /** Per query: the relevant documents' ordinals (as `docOrdinal` gives them). */
  relevant: number[][];
  report: TrainingSetReport;
}

export interface TrainingSetOptions {
  queries: string;
  qrels: string;
  /** The index's ordinal for a document id; undefined when the index does not have it. */
  docOrdinal: (docId: string) => number | undefined;
  unknown: UnknownPolicy;
}

const EXAMPLES = 5;

export class TrainingSetError extends InputError {}

function describe(lines: UnknownLines, what: string): string {
  const shown = lines.examples.map((e) => `line ${e.line}: query ${JSON.stringify(e.qid)} → document ${JSON.stringify(e.docId)}`).join('; ');
  return `${lines.count} judgment${lines.count === 1 ? '' : 's'} ${what} (e.g. ${shown})`;
}

export async function loadTrainingSet(opts: TrainingSetOptions): Promise<TrainingSet> {
  const texts = new Map<string, string>();
  for await (const q of readQueries(opts.queries)) texts.set(q.id, q.text);

  const unknownDocs: UnknownLines = { count: 0, examples: [] };
  const unknownQueries: UnknownLines = { count: 0, examples: [] };
  const relevant = new Map<string, Set<number>>();
  let judgments = 0;
  let used = 0;
  for await (const j of readJudgments(opts.qrels)) {
    if (j.relevance <= 0) continue;
    judgments++;
    const example = { qid: j.qid, docId: j.docId, line: j.line };
    if (!texts.has(j.qid)) {
      unknownQueries.count++;
      if (unknownQueries.examples.length < EXAMPLES) unknownQueries.examples.push(example);
      continue;
    }
    const doc = opts.docOrdinal(j.docId);
    if (doc === undefined) {
      unknownDocs.count++;
      if (unknownDocs.examples.length < EXAMPLES) unknownDocs.examples.push(example);
      continue;
    }
    let docs = relevant.get(j.qid);
    if (!docs) relevant.set(j.qid, (docs = new Set()));
    docs.add(doc);
    used++;
  }

  const problems = [
    unknownDocs.count > 0 ? describe(unknownDocs, 'name documents the index does not have') : '',
    unknownQueries.count > 0 ? describe(unknownQueries, `name queries that ${opts.queries} does not have`) : '',
  ].filter(Boolean);
  if (problems.length > 0 && opts.unknown === 'reject') {
    throw new TrainingSetError(`${problems.join('; ')}. Fix the file, or pass --unknown skip to train on the other ${used} judgments`, { file: opts.qrels });
  }
  if (used === 0) {
    throw new TrainingSetError(`no usable judgment: ${judgments === 0 ? 'the file has no judgment with relevance > 0' : problems.join('; ')}`, { file: opts.qrels });
  }
  const ids = [...relevant.keys()];
  return {
    ids,
    texts: ids.map((id) => texts.get(id)!),
    relevant: ids.map((id) => [...relevant.get(id)!]),
    report: { judgments, used, unknownDocs, unknownQueries },
  };
}

/** One line for logs: what was used and what was skipped. */
export function describeTrainingSet(set: TrainingSet, qrelsPath: string): string {
  const { report } = set;
  const skipped = [
    report.unknownDocs.count > 0 ? describe(report.unknownDocs, 'skipped: unknown document') : '',
    report.unknownQueries.count > 0 ? describe(report.unknownQueries, 'skipped: unknown query') : '',
  ].filter(Boolean);
  return `${qrelsPath}: ${set.ids.length} queries, ${report.used} of ${report.judgments} relevant judgments used${skipped.length ? `; ${skipped.join('; ')}` : ''}`;
}
