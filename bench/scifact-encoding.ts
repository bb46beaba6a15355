// The SciFact corpus and test queries encoded once per bench work directory, shared by
// bench:engine and bench:peers: an encode-only slice (`index build --slice 0/1`) and the 300
// test queries' vectors. Re-running with BENCH_WORK kept and BENCH_REUSE_ENCODING=1 reuses both.
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEncoder } from '../gpu-pool/engine/encoders/index.ts';
import { REPO_ROOT, SCIFACT_DIR, scifactTestQueries } from '../test/fixtures.ts';
import { timedCli } from './child-cli.ts';

export const SCIFACT_MODEL = join(REPO_ROOT, 'models', 'use-lite');

export interface EncodedCorpus {
  sliceDir: string;
  /** The encode run: wall seconds and peak RSS of `index build --slice 0/1`. */
  run: { seconds: number; peakRssMB: number };
}

export async function encodeSciFactCorpus(work: string, log: (m: string) => void): Promise<EncodedCorpus> {
  const sliceDir = join(work, 'slice');
  const record = join(work, 'encode-run.json');
  if (process.env.BENCH_REUSE_ENCODING && (await stat(join(sliceDir, 'slice.json')).catch(() => undefined)) && (await stat(record).catch(() => undefined))) {
    const run = JSON.parse(await readFile(record, 'utf8')) as EncodedCorpus['run'];
    log(`reusing the encoded corpus in ${sliceDir} (encoded in ${run.seconds.toFixed(1)}s)`);
    return { sliceDir, run };
  }
  await rm(sliceDir, { recursive: true, force: true });
  log('encoding SciFact (index build --slice 0/1)');
  const run = timedCli(['index', 'build', '--corpus', SCIFACT_DIR, '--model', SCIFACT_MODEL, '--slice', '0/1', '--out', sliceDir, '--threads', '2']);
  await writeFile(record, JSON.stringify({ seconds: run.seconds, peakRssMB: run.peakRssMB }));
  log(`encoded in ${run.seconds.toFixed(1)}s`);
  return { sliceDir, run: { seconds: run.seconds, peakRssMB: run.peakRssMB } };
}

export interface EncodedQueries {
  queriesFile: string;
  vectorsFile: string;
  count: number;
  /** Encode ms per query: all queries in one call, and one call per query (first 100). */
  batchedMs: number;
  singleMs: number;
}

export async function encodeSciFactQueries(work: string, threads = 2): Promise<EncodedQueries> {
  const queries = await scifactTestQueries();
  const encoder = await loadEncoder(SCIFACT_MODEL, { threads });
  await encoder.encodeQueries(queries.slice(0, 4).map((q) => q.text));
  let t = performance.now();
  const qvecs = await encoder.encodeQueries(queries.map((q) => q.text));
  const batchedMs = (performance.now() - t) / queries.length;
  t = performance.now();
  for (const q of queries.slice(0, 100)) await encoder.encodeQueries([q.text]);
  const singleMs = (performance.now() - t) / 100;
  await encoder.dispose();
  const queriesFile = join(work, 'queries.json');
  const vectorsFile = join(work, 'queries.f32');
  await writeFile(queriesFile, JSON.stringify(queries));
  await writeFile(vectorsFile, new Uint8Array(qvecs.buffer, qvecs.byteOffset, qvecs.byteLength));
  return { queriesFile, vectorsFile, count: queries.length, batchedMs, singleMs };
}
