// Child process for training-warning.test.ts: faiss writes its warnings to fd 2 from C++, which
// only a separate process can capture. Trains one index on a small sample, then prints (stdout,
// one JSON line) what the trained index does, so two runs can be compared.
import { FaissIndex } from './faiss-index.ts';
import { clustered } from './test-helpers.ts';

const [factoryKey, mode, n, d] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const data = clustered(n, d, 20, 7);
const probes = clustered(50, d, 20, 7, 99);
const index = FaissIndex.create(d, factoryKey, 'l2', { opqIterations: 3 });
const clusterings = index.trainingClusterings;
await index.train(data, { faissWarnings: mode === 'faiss' });
const roundTrip = await index.quantize(probes);
await index.add(data);
const { distances, labels } = await index.search(probes, 10, { nprobe: 4, efSearch: 32 });
process.stdout.write(`${JSON.stringify({ clusterings, roundTrip: [...roundTrip], distances: [...distances], labels: Array.from(labels, Number) })}\n`);
