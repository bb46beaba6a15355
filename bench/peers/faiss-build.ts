// bench:peers child: builds every FAISS_SPECS index from the shared vectors with our binding
// (2 threads) and writes <work>/peers/index/<slug>.faiss; one JSON line per index.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FaissIndex, setThreads } from '../../gpu-pool/engine/index/index.ts';
import { readPeerData } from './data.ts';
import { FAISS_SPECS } from './faiss-specs.ts';

const data = await readPeerData(process.argv[2]);
setThreads(2);
await mkdir(join(data.dir, 'index'), { recursive: true });
for (const spec of FAISS_SPECS) {
  const t = performance.now();
  // OPQ trains with 10 rotation/PQ alternations, as `index build` does (faiss's default is 50).
  const index = FaissIndex.create(data.d, spec.factory, 'ip', { opqIterations: 10 });
  if (!index.isTrained) await index.train(data.base);
  await index.add(data.base);
  const file = join(data.dir, 'index', `${spec.slug}.faiss`);
  await index.writeFile(file);
  const buildS = (performance.now() - t) / 1000;
  index.dispose();
  process.stdout.write(`${JSON.stringify({ slug: spec.slug, buildS, bytesOnDisk: (await stat(file)).size })}\n`);
}
