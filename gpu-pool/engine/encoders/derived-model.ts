// A model directory derived from another by training: the base model's files copied (so the
// directory is self-contained and the pool can hot-load it), new weight files beside them, and a
// manifest that names them. Written to `<out>.partial`, checked loadable, then renamed into place.
import { chmod, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exists, fsyncTree } from '../shard/index.ts';
import { loadManifest, parseManifest, type LoadedManifest } from './manifest.ts';

/** Files a Hugging Face / ONNX model directory may hold beside the graph and tokenizer. */
const COMPANIONS = ['tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'vocab.txt', 'merges.txt', 'config.json', 'LICENSE', 'LICENSE.txt', 'LICENSE.md', 'NOTICE', 'PROVENANCE.md', 'README.md'];

export class DerivedModelExistsError extends Error {
  constructor(out: string) {
    super(`output directory already exists: ${out} (pass --force to replace it)`);
    this.name = 'DerivedModelExistsError';
  }
}

export interface DerivedModel {
  base: LoadedManifest;
  out: string;
  force: boolean;
  /** New files (weights) by name. */
  files: Record<string, Uint8Array>;
  /** The base manifest as written (without modelDir) → the new manifest. */
  manifest: (base: Record<string, unknown>) => Record<string, unknown>;
}

/** Writes the directory; returns the manifest written. */
export async function writeDerivedModel(o: DerivedModel): Promise<Record<string, unknown>> {
  const { base, out } = o;
  if (!base.manifestPath) throw new Error(`model ${base.manifest.id}: a derived model needs a base manifest file`);
  if ((await exists(out)) && !o.force) throw new DerivedModelExistsError(out);
  const partial = `${out}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const json = JSON.parse(await readFile(base.manifestPath, 'utf8')) as Record<string, unknown>;
  // The model's files, copied (writable: the originals may be read-only).
  const names = new Set([base.manifest.onnx, base.manifest.tokenizer, ...COMPANIONS]);
  for (const extra of [`${base.manifest.onnx}.data`, `${base.manifest.onnx}_data`]) names.add(extra);
  for (const name of names) {
    const from = join(base.modelDir, name);
    if (!(await exists(from))) continue;
    await mkdir(dirname(join(partial, name)), { recursive: true });
    await copyFile(from, join(partial, name));
    await chmod(join(partial, name), 0o644);
  }
  for (const [name, bytes] of Object.entries(o.files)) await writeFile(join(partial, name), bytes);
  const { modelDir: _, ...rest } = json;
  const manifest = o.manifest(rest);
  parseManifest(manifest, join(partial, 'manifest.json'));
  await writeFile(join(partial, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // Loadable as it will be published (files present, weight sizes and checksums right).
  loadManifest(partial);
  await fsyncTree(partial);
  if (await exists(out)) {
    const aside = `${out}.old-${process.pid}`;
    await rename(out, aside);
    await rename(partial, out);
    await rm(aside, { recursive: true, force: true });
  } else await rename(partial, out);
  return manifest;
}
