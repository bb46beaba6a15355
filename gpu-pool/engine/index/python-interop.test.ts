// faiss files are ordinary faiss files: Python faiss reads what we write and we
// read what it writes. Needs Debian's python3-faiss under /usr/bin/python3
// (the python3 on PATH may be another interpreter without faiss); skipped otherwise.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaissIndex, setThreads } from './index.ts';
import { clustered, gaussian } from './test-helpers.ts';

const PYTHON = process.env.FAISS_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import faiss; print(faiss.__version__)'], { encoding: 'utf8' });
const pythonFaiss = probe.status === 0;
if (!pythonFaiss) {
  console.warn(`python-interop tests skipped: ${PYTHON} cannot import faiss (install python3-faiss, or set FAISS_PYTHON)`);
}

const run = promisify(execFile);

/** Runs a Python snippet with argv; returns stdout. */
async function python(code: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(PYTHON, ['-c', code, ...args], {
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    maxBuffer: 16 << 20,
  });
  return stdout;
}

const d = 32;
const xb = clustered(3000, d, 40, 41);
const xq = gaussian(30, d, 42);
const k = 10;
const nprobe = 8;
let dir: string;

async function writeF32(name: string, x: Float32Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  return p;
}

async function readI64(name: string): Promise<BigInt64Array> {
  const b = await readFile(join(dir, name));
  return new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function readF32(name: string): Promise<Float32Array> {
  const b = await readFile(join(dir, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const SEARCH_PY = `
import sys, numpy as np, faiss
index_path, q_path, out_prefix, d, k, nprobe = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
index = faiss.read_index(index_path)
ivf = faiss.try_extract_index_ivf(index)
if ivf is not None:
    ivf.nprobe = nprobe
q = np.fromfile(q_path, dtype="float32").reshape(-1, d)
D, I = index.search(q, k)
I.astype("int64").tofile(out_prefix + ".labels")
D.astype("float32").tofile(out_prefix + ".dist")
print(index.ntotal)
`;

const BUILD_PY = `
import sys, numpy as np, faiss
key, metric, xb_path, q_path, out_index, out_prefix, d, k, nprobe = sys.argv[1:10]
d, k, nprobe = int(d), int(k), int(nprobe)
ntrain = 1000  # OPQ training time grows with the sample; 1000 is plenty here
xb = np.fromfile(xb_path, dtype="float32").reshape(-1, d)
q = np.fromfile(q_path, dtype="float32").reshape(-1, d)
index = faiss.index_factory(d, key, faiss.METRIC_INNER_PRODUCT if metric == "ip" else faiss.METRIC_L2)
index.train(xb[:ntrain])
if key.startswith("IDMap"):
    index.add_with_ids(xb, (np.arange(len(xb)) * 7 + 3).astype("int64"))
else:
    index.add(xb)
faiss.write_index(index, out_index)
ivf = faiss.try_extract_index_ivf(index)
if ivf is not None:
    ivf.nprobe = nprobe
D, I = index.search(q, k)
I.astype("int64").tofile(out_prefix + ".labels")
D.astype("float32").tofile(out_prefix + ".dist")
`;

// Python sets the index's own parameters (ParameterSpace, IndexRefine.k_factor); ours go per call.
const SEARCH_WITH_PARAMS_PY = `
import sys, json, numpy as np, faiss
index_path, q_path, out_prefix, d, k, params = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
index = faiss.read_index(index_path)
ps = faiss.ParameterSpace()
for name in ("nprobe", "efSearch"):
    if name in params:
        ps.set_index_parameter(index, name, params[name])
if "kFactor" in params:
    faiss.downcast_index(index).k_factor = params["kFactor"]
q = np.fromfile(q_path, dtype="float32").reshape(-1, d)
D, I = index.search(q, k)
I.astype("int64").tofile(out_prefix + ".labels")
D.astype("float32").tofile(out_prefix + ".dist")
`;

describe.skipIf(!pythonFaiss)('Python faiss interop', () => {
  let xbPath: string;
  let qPath: string;

  beforeAll(async () => {
    setThreads(1);
    dir = await mkdtemp(join(tmpdir(), 'faiss-py-'));
    xbPath = await writeF32('xb.f32', xb);
    qPath = await writeF32('q.f32', xq);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['IVF32,Flat', 'OPQ8,IVF32,PQ8np', 'IDMap2,Flat'])('Python reads and searches an index written by TS: %s', async (key) => {
    const index = FaissIndex.create(d, key, 'l2');
    await index.train(xb.subarray(0, 1000 * d)); // OPQ training time grows with the sample
    if (key.startsWith('IDMap')) await index.add(xb, BigInt64Array.from({ length: 3000 }, (_, i) => BigInt(i * 7 + 3)));
    else await index.add(xb);
    const path = join(dir, `ts-${key.replace(/\W/g, '_')}.faiss`);
    await index.writeFile(path);
    const ours = await index.search(xq, k, { nprobe });
    const ntotal = await python(SEARCH_PY, path, qPath, join(dir, 'py-search'), String(d), String(k), String(nprobe));
    expect(Number(ntotal.trim())).toBe(3000);
    expect([...(await readI64('py-search.labels'))]).toEqual([...ours.labels]);
    const dist = await readF32('py-search.dist');
    dist.forEach((v, i) => expect(v).toBeCloseTo(ours.distances[i], 4));
  });

  // faiss 1.7.3's HNSW ignores a per-call efSearch when sizing its candidate queue, and IndexRefine
  // takes no per-call parameters: the binding works around both (structure.cc). The answers must
  // be Python's with the same values set on the index. The two processes may load different faiss
  // builds (AVX2 here, Debian's there): a near-tie may swap places, nothing else.
  it.each([
    ['HNSW32', { efSearch: 128 }],
    ['HNSW16_PQ8np', { efSearch: 64 }],
    ['IVF32,PQ8np,RFlat', { nprobe: 8, kFactor: 4 }],
  ] as const)('per-call %s %o answers as Python faiss does with the same values set on the index', async (key, params) => {
    const index = FaissIndex.create(d, key, 'ip');
    await index.train(xb);
    await index.add(xb);
    const path = join(dir, `params-${key.replace(/\W/g, '_')}.faiss`);
    await index.writeFile(path);
    const ours = await index.search(xq, k, params);
    await python(SEARCH_WITH_PARAMS_PY, path, qPath, join(dir, 'py-params'), String(d), String(k), JSON.stringify(params));
    const [labels, dist] = [await readI64('py-params.labels'), await readF32('py-params.dist')];
    let swaps = 0;
    for (let i = 0; i < labels.length; i++) {
      expect(ours.distances[i]).toBeCloseTo(dist[i], 4);
      if (ours.labels[i] !== labels[i]) swaps++;
    }
    expect(swaps).toBeLessThanOrEqual(2);
    // and the wider search is really wider than the index's own default (efSearch 16, k_factor 1)
    const plain = await index.search(xq, k, 'nprobe' in params ? { nprobe: params.nprobe } : {});
    expect([...plain.labels]).not.toEqual([...ours.labels]);
  });

  it.each([
    ['IVF32,Flat', 'l2'],
    ['OPQ8,IVF32,PQ8np', 'ip'],
    ['IDMap2,Flat', 'ip'],
    ['HNSW16', 'l2'],
  ] as const)('TS reads and searches an index written by Python: %s (%s)', async (key, metric) => {
    const path = join(dir, `py-${key.replace(/\W/g, '_')}.faiss`);
    await python(BUILD_PY, key, metric, xbPath, qPath, path, join(dir, 'py-build'), String(d), String(k), String(nprobe));
    const index = await FaissIndex.readFile(path);
    expect(index.ntotal).toBe(3000);
    expect(index.metric).toBe(metric);
    expect(index.dimension).toBe(d);
    const ours = await index.search(xq, k, { nprobe });
    expect([...ours.labels]).toEqual([...(await readI64('py-build.labels'))]);
    const dist = await readF32('py-build.dist');
    dist.forEach((v, i) => expect(ours.distances[i]).toBeCloseTo(v, 4));
    if (key.startsWith('IDMap2')) expect([...index.reconstruct(3 + 7 * 10)]).toEqual([...xb.subarray(10 * d, 11 * d)]);
  });
});
