// bench:scale child: trains and fills one index over the first N synthetic rows (generated in
// chunks, never all in memory as floats), writes it to <dir>/index-<N>-<slug>.faiss and prints
// {trainS, addS, genS, bytesOnDisk, trainRows}. Run under /usr/bin/time for the peak RSS.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FaissIndex, setThreads } from '../../gpu-pool/engine/index/index.ts';
import { readParents, syntheticRows } from './synthetic.ts';
import { readQueries } from './queries.ts';

const [dir, sizeArg, factory, slug, trainArg] = process.argv.slice(2);
const size = Number(sizeArg);
const trainRows = Math.min(size, Number(trainArg));
const CHUNK = 100_000;
setThreads(2);
const { d } = await readQueries(dir);
const parents = await readParents(join(dir, 'parents.f32'), d);
const log = (m: string) => process.stderr.write(`[scale:build ${size} ${factory}] ${m}\n`);

let genMs = 0;
const generate = (from: number, count: number, out?: Float32Array) => {
  const t = performance.now();
  const rows = syntheticRows(parents, from, count, out);
  genMs += performance.now() - t;
  return rows;
};
// Training sample: every (size / trainRows)-th row, so it covers the whole corpus.
const stride = Math.max(1, Math.floor(size / trainRows));
const sample = new Float32Array(trainRows * d);
for (let r = 0; r < trainRows; r++) sample.set(generate(r * stride, 1), r * d);
const index = FaissIndex.create(d, factory, 'ip', { opqIterations: 10 });
let t = performance.now();
if (!index.isTrained) await index.train(sample);
const trainS = (performance.now() - t) / 1000;
log(`trained on ${trainRows} rows in ${trainS.toFixed(1)}s`);
let addMs = 0;
const buf = new Float32Array(CHUNK * d);
for (let from = 0; from < size; from += CHUNK) {
  const count = Math.min(CHUNK, size - from);
  const rows = generate(from, count, buf).subarray(0, count * d);
  t = performance.now();
  await index.add(rows);
  addMs += performance.now() - t;
  if ((from + count) % 1_000_000 === 0) log(`${from + count} rows added (${(addMs / 1000).toFixed(0)}s adding, ${(genMs / 1000).toFixed(0)}s generating)`);
}
const file = join(dir, `index-${size}-${slug}.faiss`);
await index.writeFile(file);
index.dispose();
process.stdout.write(`${JSON.stringify({ trainS, addS: addMs / 1000, genS: genMs / 1000, bytesOnDisk: (await stat(file)).size, trainRows })}\n`);
