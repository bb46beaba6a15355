import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { corpusFingerprint, readCorpus, type CorpusFormat, type Doc } from '../corpus/index.ts';
import { createProgress } from '../progress/index.ts';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.ts';
import { EncodedWriter } from './encoded-vectors.ts';
import type { RowEncoder } from './row-encoders.ts';

export interface Slice {
  index: number;
  count: number;
}

export interface EncodeStageOptions {
  corpus: string;
  format: CorpusFormat;
  limit?: number;
  /** Documents → rows (windows or tokens). */
  encoder: RowEncoder;
  /** Working directory that survives a crash; reused when its key matches. */
  workDir: string;
  slice?: Slice;
  /** Documents per checkpoint. Fixed groups keep batches, and so vectors, identical on resume. */
  groupDocs: number;
  totalDocs?: number;
  log: (message: string) => void;
  progress?: boolean;
}

/** The corpus as the build sees it: every pass over it must agree on the documents. */
export async function* corpusDocuments(corpus: string, format: CorpusFormat, limit?: number): AsyncIterable<Doc> {
  if (limit === 0) return;
  let n = 0;
  for await (const doc of readCorpus(corpus, format)) {
    yield doc;
    if (limit !== undefined && ++n >= limit) return;
  }
}

export function inSlice(ordinal: number, slice: Slice | undefined): boolean {
  return slice === undefined || ordinal % slice.count === slice.index;
}

export async function encodeKey(opts: Pick<EncodeStageOptions, 'corpus' | 'format' | 'limit' | 'encoder' | 'slice' | 'groupDocs'>): Promise<string> {
  const f = await corpusFingerprint(opts.corpus, opts.format);
  // Window rows keep the key they always had, so partial dense builds of earlier versions resume.
  const rows = opts.encoder.rows === 'windows' ? [] : [opts.encoder.rows];
  const parts = [f.path, f.bytes, f.mtimeMs, opts.format, opts.limit, opts.encoder.manifestHash, opts.slice?.index, opts.slice?.count, opts.groupDocs, ...rows];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

/**
 * Streams the corpus, turns each document into rows (windows or tokens) and encodes them, appending rows to
 * the work directory and checkpointing after every group of documents. Killed at any point,
 * a rerun continues from the last checkpoint and produces the same rows.
 */
export async function runEncodeStage(opts: EncodeStageOptions): Promise<Checkpoint> {
  const key = await encodeKey(opts);
  const dimension = opts.encoder.dimension;
  await mkdir(opts.workDir, { recursive: true });
  let checkpoint = await readCheckpoint(opts.workDir);
  if (checkpoint && (checkpoint.key !== key || checkpoint.dimension !== dimension)) {
    opts.log(`discarding a partial build in ${opts.workDir}: it was made from different inputs`);
    await rm(opts.workDir, { recursive: true, force: true });
    await mkdir(opts.workDir, { recursive: true });
    checkpoint = undefined;
  }
  checkpoint ??= { key, dimension, docsDone: 0, windowsDone: 0, complete: false };
  if (checkpoint.complete) {
    opts.log(`encoding already complete in ${opts.workDir} (${checkpoint.windowsDone} windows)`);
    return checkpoint;
  }
  if (checkpoint.docsDone > 0) opts.log(`resuming after ${checkpoint.docsDone} documents (${checkpoint.windowsDone} windows encoded)`);

  const writer = await EncodedWriter.open(opts.workDir, dimension, checkpoint.windowsDone);
  const progress = createProgress({ label: 'encode', total: opts.totalDocs, unit: 'docs', enabled: opts.progress });
  progress.set(checkpoint.docsDone);
  let ordinal = 0;
  let group: { ordinal: number; doc: Doc }[] = [];
  let state = checkpoint;

  const flush = async (docsDone: number) => {
    const { vectors, counts } = group.length > 0 ? await opts.encoder.encode(group.map((g) => g.doc)) : { vectors: new Float32Array(0), counts: [] };
    const owners: number[] = [];
    group.forEach(({ ordinal: o }, i) => {
      for (let r = 0; r < counts[i]; r++) owners.push(o);
    });
    if (owners.length > 0) await writer.append(vectors, Uint32Array.from(owners));
    await writer.sync();
    state = { ...state, docsDone, windowsDone: writer.count };
    await writeCheckpoint(opts.workDir, state);
    group = [];
  };

  try {
    for await (const doc of corpusDocuments(opts.corpus, opts.format, opts.limit)) {
      const o = ordinal++;
      if (o < state.docsDone) continue;
      if (inSlice(o, opts.slice)) group.push({ ordinal: o, doc });
      progress.tick();
      if (ordinal - state.docsDone >= opts.groupDocs) await flush(ordinal);
    }
    await flush(ordinal);
    state = { ...state, complete: true };
    await writeCheckpoint(opts.workDir, state);
  } finally {
    progress.finish();
    await writer.close();
  }
  return state;
}
