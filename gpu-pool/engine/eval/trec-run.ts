import { open } from 'node:fs/promises';
import { InputError, readLines } from '../corpus/index.ts';
import { trecOrder } from './metrics.ts';
import type { RankedDoc, Run } from './types.ts';

/**
 * Writes `qid Q0 docid rank score tag` lines. Each query's documents are written in trec_eval's
 * order (score descending, ties by docid descending) with ranks 1..n, so the rank column agrees
 * with how trec_eval will read the file. Scores are written in full (shortest round-trip form).
 */
export async function writeTrecRun(run: Run, path: string, tag = 'edgesearch'): Promise<void> {
  if (!isToken(tag)) throw new Error(`run tag must be non-empty without whitespace: ${JSON.stringify(tag)}`);
  const handle = await open(path, 'w');
  try {
    let buffer = '';
    for (const [qid, docs] of run) {
      if (!isToken(qid)) throw new Error(`query id must be non-empty without whitespace: ${JSON.stringify(qid)}`);
      const ranked = trecOrder(docs);
      for (let i = 0; i < ranked.length; i++) {
        const { docId, score } = ranked[i];
        if (!isToken(docId)) throw new Error(`document id must be non-empty without whitespace: ${JSON.stringify(docId)}`);
        buffer += `${qid} Q0 ${docId} ${i + 1} ${String(score)} ${tag}\n`;
        if (buffer.length >= 1 << 20) {
          await handle.write(buffer);
          buffer = '';
        }
      }
    }
    await handle.write(buffer);
  } finally {
    await handle.close();
  }
}

/**
 * ColBERT's ranking TSV: `qid \t pid \t rank \t score` per line (rank from 1), in the same order
 * as the TREC run: what ColBERT's own evaluation scripts and RAGatouille read.
 */
export async function writeColbertRanking(run: Run, path: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    let buffer = '';
    for (const [qid, docs] of run) {
      if (/[\t\n]/.test(qid)) throw new Error(`query id must not contain tabs or newlines: ${JSON.stringify(qid)}`);
      const ranked = trecOrder(docs);
      for (let i = 0; i < ranked.length; i++) {
        const { docId, score } = ranked[i];
        if (/[\t\n]/.test(docId)) throw new Error(`document id must not contain tabs or newlines: ${JSON.stringify(docId)}`);
        buffer += `${qid}\t${docId}\t${i + 1}\t${String(score)}\n`;
        if (buffer.length >= 1 << 20) {
          await handle.write(buffer);
          buffer = '';
        }
      }
    }
    await handle.write(buffer);
  } finally {
    await handle.close();
  }
}

/** Reads `qid Q0 docid rank score [tag]` lines; the rank column is ignored, as trec_eval does. */
export async function readTrecRun(path: string): Promise<Run> {
  const run: Run = new Map();
  const seen = new Map<string, Set<string>>();
  for await (const { text, line } of readLines(path)) {
    const trimmed = text.trim();
    if (trimmed === '') continue;
    const fields = trimmed.split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) {
      throw new InputError(`expected \`qid Q0 docid rank score tag\`, found ${fields.length} fields`, { file: path, line });
    }
    const [qid, , docId, , scoreText] = fields;
    const score = Number(scoreText);
    if (scoreText === '' || Number.isNaN(score)) throw new InputError(`score is not a number: ${JSON.stringify(scoreText)}`, { file: path, line, field: 'score' });
    let docs = run.get(qid);
    let ids = seen.get(qid);
    if (!docs || !ids) {
      run.set(qid, (docs = []));
      seen.set(qid, (ids = new Set()));
    }
    if (ids.has(docId)) throw new InputError(`query ${qid} retrieves document ${docId} twice`, { file: path, line });
    ids.add(docId);
    docs.push({ docId, score } satisfies RankedDoc);
  }
  return run;
}

function isToken(s: string): boolean {
  return s.length > 0 && !/\s/.test(s);
}
