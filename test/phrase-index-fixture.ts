// A phrase index built from phrase vectors a test constructs (gpu-pool/engine/phrase/store/
// test-helpers.ts), so the right span for each query vector is known; written through the same
// assembly and publishing as `index build --method phrase`, under a real phrase model of the same
// dimension (random heads) so that pool nodes can load their encoder.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadManifest, writeDerivedModel } from '../gpu-pool/engine/encoders/index.ts';
import { encodePhraseHeads, loadPhraseEncoder } from '../gpu-pool/engine/phrase/model/index.ts';
import { constructedCorpus, constructedPassage, rng } from '../gpu-pool/engine/phrase/store/test-helpers.ts';
import { createStaging, publishDirectory } from '../gpu-pool/engine/shard/index.ts';
import { assembleShards } from '../gpu-pool/engine/writer/assemble.ts';
import { packPhraseRows, phraseRowWidth } from '../gpu-pool/engine/writer/phrase-rows.ts';
import { REPO_ROOT } from './fixtures.ts';

export const PHRASE_DIM = 32;

export interface ConstructedPhraseIndex {
  dir: string;
  model: string;
  passages: ReturnType<typeof constructedCorpus>;
  /** Title of passage i (articles of 3 passages). */
  titles: string[];
}

/** A phrase model over use-lite-tokens with small random heads of dimension d (untrained: for wiring, not quality). */
export async function randomPhraseModel(out: string, d: number, seed: number): Promise<string> {
  const r = (() => {
    let s = seed;
    return () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.05;
  })();
  const m = () => Float32Array.from({ length: 512 * d }, r);
  const heads = encodePhraseHeads({ inputDimension: 512, dimension: d, start: m(), end: m(), queryStart: m(), queryEnd: m() });
  await writeDerivedModel({
    base: loadManifest(join(REPO_ROOT, 'models', 'use-lite-tokens')),
    out,
    force: true,
    files: { 'phrase-heads.f32': heads },
    manifest: (base) => ({ ...base, id: 'random-phrase', phrase: { dimension: d, heads: { file: 'phrase-heads.f32', inputDimension: 512, sha256: createHash('sha256').update(heads).digest('hex') } } }),
  });
  return out;
}

/**
 * The words of a constructed passage cut into sentences of 4 words: every 4th word but the last
 * ends with a full stop and the word after it is capitalised ("alpha beta gamma delta. Epsilon"),
 * which the pool's sentence splitter splits after.
 */
export function sentenceWords(words: string[]): string[] {
  return words.map((w, i) => {
    const capital = i > 0 && i % 4 === 0 ? w[0].toUpperCase() + w.slice(1) : w;
    return i % 4 === 3 && i < words.length - 1 ? `${capital}.` : capital;
  });
}

/**
 * `n` constructed passages (3 per article) in an index of `shards` shards under `work`. With
 * `sentences`, the passages' words are cut into sentences of 4 words (sentenceWords), with phrase
 * vectors of their own; without, a passage has no full stop and is one sentence.
 */
export async function constructedPhraseIndex(work: string, n: number, shards: number, seed = 11, opts: { bm25?: boolean; sentences?: boolean } = {}): Promise<ConstructedPhraseIndex> {
  const d = PHRASE_DIM;
  const plain = constructedCorpus(n, d, seed);
  const r = rng(seed + 1);
  const passages = opts.sentences ? plain.map((p) => constructedPassage(sentenceWords(p.text.split(' ')), d, r)) : plain;
  const titles = passages.map((_, i) => `Article ${Math.floor(i / 3)}`);
  await mkdir(work, { recursive: true });
  const corpus = join(work, 'corpus.json');
  const articles = Array.from({ length: Math.ceil(n / 3) }, (_, a) => ({ title: `Article ${a}`, paragraphs: passages.slice(3 * a, 3 * a + 3).map((p) => ({ context: p.text })) }));
  await writeFile(corpus, JSON.stringify({ data: articles }));

  const model = await randomPhraseModel(join(work, 'phrase-model'), d, seed);
  const encoder = await loadPhraseEncoder(model, { log: () => {} });
  const ref = { id: encoder.modelId, manifestHash: encoder.manifestHash, dimension: d, path: encoder.manifestPath };
  await encoder.dispose();

  const w = phraseRowWidth(d);
  const rows = passages.reduce((t, p) => t + p.tokens, 0);
  const vectors = new Float32Array(rows * w);
  const windowDocs = new Uint32Array(rows);
  let at = 0;
  passages.forEach((p, i) => {
    vectors.set(packPhraseRows(p, d), at * w);
    windowDocs.fill(i, at, at + p.tokens);
    at += p.tokens;
  });
  const dir = join(work, 'index');
  const staging = await createStaging(dir);
  await assembleShards({
    method: 'phrase',
    phrase: { dimension: d, maxPhraseTokens: 20 },
    corpus,
    format: 'squad',
    encoded: { dimension: w, vectors, windowDocs },
    model: ref,
    factoryKey: 'Flat',
    metric: 'ip',
    shards,
    bm25: opts.bm25 ?? false,
    trainSize: 100_000,
    staging,
    build: { constructed: true },
    log: () => {},
  });
  await publishDirectory(staging, dir);
  return { dir, model, passages, titles };
}
