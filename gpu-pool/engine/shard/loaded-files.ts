// The files openShard reads for a manifest. The manifest must list (and so checksum) every one
// of them: a file the loader reads but the manifest does not list would be served unverified.
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { BM25_FILES } from '../bm25/index.ts';
import { TOKEN_STORE_FILES } from '../colbert/store/index.ts';
import { PHRASE_STORE_FILES } from '../phrase/store/index.ts';
import { FAISS_FILE, VECTOR_DOCS_FILE } from './files.ts';
import { ManifestError, SHARD_MANIFEST_FILE, type ShardManifest } from './manifest.ts';
import { PASSAGE_DATA_FILE, PASSAGE_OFFSETS_FILE } from './passage-store.ts';

/** Every file the read path opens for a shard with this manifest (the manifest itself aside). */
export function loadedFiles(manifest: Pick<ShardManifest, 'methods'>): string[] {
  const names = [...(manifest.methods.includes('dense') ? [FAISS_FILE, VECTOR_DOCS_FILE] : []), PASSAGE_DATA_FILE, PASSAGE_OFFSETS_FILE];
  if (manifest.methods.includes('bm25')) names.push(...Object.values(BM25_FILES));
  if (manifest.methods.includes('colbert')) names.push(...TOKEN_STORE_FILES);
  if (manifest.methods.includes('phrase')) names.push(...PHRASE_STORE_FILES);
  return names;
}

/**
 * Refuses a manifest that leaves out a file the loader reads, and any listed file that is not
 * a regular file in the shard directory itself (a symlink could point anywhere, e.g. /etc/passwd).
 */
export async function checkShardFiles(dir: string, manifest: ShardManifest): Promise<void> {
  for (const name of loadedFiles(manifest)) {
    if (!Object.hasOwn(manifest.files, name)) {
      throw new ManifestError(`field files does not list ${name}, which the loader reads: it would be served unverified`, join(dir, SHARD_MANIFEST_FILE));
    }
  }
  for (const name of Object.keys(manifest.files)) {
    const path = join(dir, name);
    let kind: string;
    try {
      const s = await lstat(path);
      kind = s.isSymbolicLink() ? 'a symbolic link' : s.isFile() ? '' : 'not a regular file';
    } catch (err) {
      throw new ManifestError(`listed file is missing (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, path);
    }
    if (kind) throw new ManifestError(`listed file is ${kind}; shard files must be regular files in the shard directory`, path);
  }
}
