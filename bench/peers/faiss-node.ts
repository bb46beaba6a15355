// bench:peers child: our binding (the faiss build EDGESEARCH_FAISS chose) searching the index
// files faiss-build.ts wrote, one thread, every sweep of FAISS_SPECS.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FaissIndex, faissVersion, setThreads } from '../../gpu-pool/engine/index/index.ts';
import { faissBuild } from '../../gpu-pool/engine/index/native.ts';
import { K, emit, fastest, queryRow, readPeerData, recallAt10 } from './data.ts';
import { FAISS_SPECS, sweepLabel } from './faiss-specs.ts';

const data = await readPeerData(process.argv[2]);
const only = process.argv[3]?.split(',');
setThreads(1);
const build = faissBuild();
for (const spec of FAISS_SPECS.filter((s) => !only || only.includes(s.slug))) {
  const index = await FaissIndex.readFile(join(data.dir, 'index', `${spec.slug}.faiss`));
  for (const sweep of spec.sweeps) {
    await index.search(data.queries.subarray(0, 8 * data.d), K, sweep); // warm up
    let labels: BigInt64Array = new BigInt64Array(0);
    const batched = await fastest(3, async () => {
      labels = (await index.search(data.queries, K, sweep)).labels;
    });
    const single = await fastest(2, async () => {
      for (let q = 0; q < data.nq; q++) await index.search(queryRow(data, q), K, sweep);
    });
    // The same single queries on the calling thread: what the async hand-off costs.
    const singleSync = await fastest(2, () => {
      for (let q = 0; q < data.nq; q++) index.searchSync(queryRow(data, q), K, sweep);
    });
    const rows = Int32Array.from(labels, (l) => Number(l));
    const found = Array.from({ length: data.nq }, (_, q) => rows.subarray(q * K, (q + 1) * K));
    const labelsFile = join(data.dir, 'labels', `node-${build}-${spec.slug}-${sweepLabel(sweep).replace(/[ =]/g, '_')}.i32`);
    await writeFile(labelsFile, rows);
    emit({
      system: `edgesearch binding (${build})`,
      version: `faiss ${faissVersion()}`,
      index: spec.factory,
      params: sweepLabel(sweep),
      threads: 1,
      recall10: recallAt10(found, data.exact),
      batchedMs: batched / data.nq,
      singleMs: single / data.nq,
      singleSyncMs: singleSync / data.nq,
      labelsFile,
    });
  }
  index.dispose();
}
