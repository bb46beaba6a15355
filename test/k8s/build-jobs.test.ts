// The index build Jobs of the cpu overlay, run as the Job controller and kubelet would: every pod
// of the Indexed Job `index-build` at once (JOB_COMPLETION_INDEX 0..N-1, one shared
// ReadWriteMany volume), then `index-merge` (its wait-for-slices init container, then merge and
// push). Substituted: the mount paths → local directories, the index store → a file:// store, and
// the corpus on the build volume → the first 240 SciFact documents (the model: use-lite). What the
// Jobs publish must equal one `index build` of the same corpus.
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Searcher } from '../../gpu-pool/engine/search/index.ts';
import { readIndexManifest, readShardManifest, type IndexManifest } from '../../gpu-pool/engine/shard/index.ts';
import { runCli } from '../cli.ts';
import { SCIFACT_DIR } from '../fixtures.ts';
import { USE_LITE_MODEL } from '../index-fixture.ts';
import { localContainer, run, type LocalContext, type Pod } from './local-pod.ts';
import { configMap, find, kubectlMissing, renderOverlay, type K8sObject } from './render.ts';

const missing = kubectlMissing();
const DOCS = 240;

let objects: K8sObject[];
let work: string;
let buildDir: string;
let store: string;
let settings: Record<string, string>;
let model: string;

/** A path under the build volume's mount (/data/build) → where that volume lies here. */
function onBuildVolume(path: string, mountPath: string): string {
  const rel = relative(mountPath, path);
  if (rel.startsWith('..')) throw new Error(`${path} is not on the build volume (${mountPath})`);
  return join(buildDir, rel);
}

function context(extra: Record<string, string> = {}): LocalContext {
  return { objects, keys: {}, namespace: 'default', sharedVolumes: { build: buildDir }, env: { EDGESEARCH_INDEX_STORE: `file://${store}`, ...extra } };
}

function pod(name: string, ordinal = 0): Pod {
  return { ordinal, name, address: '127.0.0.1', url: '', dir: join(work, 'pods', name), logs: [] };
}

/** Runs the pod's init containers in order, then its one container; resolves with the last exit code. */
async function runPod(p: Pod, spec: any, ctx: LocalContext): Promise<number | null> {
  await mkdir(p.dir, { recursive: true });
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const code = await run(p, c.name, localContainer(ctx, p, spec, c)).exited;
    if (code !== 0) return code;
  }
  return 0;
}

beforeAll(async () => {
  if (missing) return;
  objects = renderOverlay('cpu');
  settings = configMap(objects, 'index-build').data!;
  work = await mkdtemp(join(tmpdir(), 'es-k8s-build-'));
  buildDir = join(work, 'build-volume');
  store = join(work, 'store');
  await mkdir(store);
  const mountPath = find(objects, 'Job', 'index-build').spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === 'build').mountPath;
  // What an operator puts on the build volume: the corpus (a BEIR directory) and the model.
  const corpus = onBuildVolume(settings.EDGESEARCH_BUILD_CORPUS, mountPath);
  await mkdir(corpus, { recursive: true });
  const lines = (await readFile(join(SCIFACT_DIR, 'corpus.jsonl'), 'utf8')).split('\n').slice(0, DOCS);
  await writeFile(join(corpus, 'corpus.jsonl'), `${lines.join('\n')}\n`);
  // The model: use-lite's manifest, its files where ../shared keeps them (never copied).
  model = onBuildVolume(settings.EDGESEARCH_BUILD_MODEL, mountPath);
  await mkdir(model, { recursive: true });
  const manifest = JSON.parse(await readFile(join(USE_LITE_MODEL, 'manifest.json'), 'utf8'));
  await writeFile(join(model, 'manifest.json'), JSON.stringify({ ...manifest, modelDir: resolve(USE_LITE_MODEL, manifest.modelDir) }));
}, 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.skipIf(missing !== undefined)('the index build Jobs the cpu overlay describes', () => {
  let published: string;

  it('builds every slice in parallel (one pod per completion index), and a retried pod keeps its slice', async () => {
    const job = find(objects, 'Job', 'index-build');
    const slices = Number(settings.EDGESEARCH_BUILD_SLICES);
    expect(job.spec.completions).toBe(slices);
    const pods = Array.from({ length: slices }, (_, i) => pod(`index-build-${i}`, i));
    const codes = await Promise.all(pods.map((p, i) => runPod(p, job.spec.template.spec, context({ JOB_COMPLETION_INDEX: String(i) }))));
    expect(codes, pods.map((p) => p.logs.slice(-5).join('\n')).join('\n')).toEqual(pods.map(() => 0));
    for (let i = 0; i < slices; i++) {
      const slice = JSON.parse(await readFile(join(buildDir, settings.EDGESEARCH_BUILD_NAME, `slice-${i}`, 'slice.json'), 'utf8'));
      expect(slice).toMatchObject({ format: 'edgesearch-slice', slice: { index: i, count: slices } });
    }
    const again = pod('index-build-0-retry');
    expect(await runPod(again, job.spec.template.spec, context({ JOB_COMPLETION_INDEX: '0' }))).toBe(0);
    expect(again.logs.join('\n')).toContain(`slice 0/${slices} is built`);
  }, 600_000);

  it('waits for the slices, merges them and pushes the index to the store', async () => {
    const job = find(objects, 'Job', 'index-merge');
    const slices = Number(settings.EDGESEARCH_BUILD_SLICES);
    // Without them the init container would wait (as in a cluster) forever.
    for (let i = 0; i < slices; i++) await stat(join(buildDir, settings.EDGESEARCH_BUILD_NAME, `slice-${i}`, 'slice.json'));
    const p = pod('index-merge');
    const code = await runPod(p, job.spec.template.spec, context());
    expect(code, p.logs.join('\n')).toBe(0);
    expect(p.logs).toContain(`[wait-for-slices] ${slices}/${slices} slices built`);
    // `index push` prints where the version went: the store and the version.
    const url = p.logs.filter((l) => l.startsWith('[merge] file://')).pop()?.slice('[merge] '.length);
    expect(url).toMatch(new RegExp(`^file://${store}/[0-9a-f]+$`));
    published = url!.slice('file://'.length);
    const m = await readIndexManifest(published);
    expect(m.version).toBe(published.split('/').pop());
    expect(m.counts.docs).toBe(DOCS);
    expect(m.shards).toHaveLength(Number(configMap(objects, 'pool-topology').data!.EDGESEARCH_POOL_SHARDS));
  }, 600_000);

  it('published what one `index build` of the same corpus builds', async () => {
    expect(published).toBeDefined();
    const single = join(work, 'single');
    const corpus = join(work, 'single-corpus');
    await cp(join(buildDir, relative('/data/build', settings.EDGESEARCH_BUILD_CORPUS)), corpus, { recursive: true });
    const r = await runCli(['index', 'build', '--corpus', corpus, '--model', model, '--factory', settings.EDGESEARCH_BUILD_FACTORY, '--shards', configMap(objects, 'pool-topology').data!.EDGESEARCH_POOL_SHARDS, '--bm25', '--out', single]);
    expect(r.code, r.stderr).toBe(0);
    const [a, b]: IndexManifest[] = [await readIndexManifest(published), await readIndexManifest(single)];
    expect(a.counts).toEqual(b.counts);
    // The same documents in the same shards: passages and postings byte-identical...
    for (const entry of a.shards) {
      const [x, y] = [await readShardManifest(join(published, entry.dir)), await readShardManifest(join(single, entry.dir))];
      for (const file of ['passages.bin', 'passages.idx', 'vector-docs.u32', 'bm25.docs']) expect(x.files[file], `${entry.dir}/${file}`).toEqual(y.files[file]);
    }
    // ...and vectors, encoded in other batches, to float rounding: the same rankings.
    const [x, y] = [await Searcher.open(published), await Searcher.open(single)];
    try {
      const queries = ['stem cells', 'influenza vaccine efficacy', 'obesity and diabetes risk'].map((text, i) => ({ id: String(i), text, k: 10 }));
      const [rx, ry] = [await x.searchHits('dense', queries), await y.searchHits('dense', queries)];
      rx.forEach((hits, i) => {
        expect(hits.map((h) => h.docId)).toEqual(ry[i].map((h) => h.docId));
        hits.forEach((h, j) => expect(Math.abs(h.score - ry[i][j].score)).toBeLessThan(1e-5));
      });
    } finally {
      await x.close();
      await y.close();
    }
  }, 600_000);
});
