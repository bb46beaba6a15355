// A shard's passage store, and its BM25 postings when it has them, written from its passages in
// ordinal order: what `index add` and `index delete` rewrite (nothing is re-encoded for them).
import { Bm25Builder } from '../bm25/index.ts';
import { PassageStoreWriter, type Passage } from '../shard/index.ts';

/** Returns the names of the files written into `dir`. */
export async function writePassageFiles(dir: string, passages: readonly Passage[], bm25: boolean): Promise<string[]> {
  const writer = await PassageStoreWriter.create(dir);
  const builder = bm25 ? new Bm25Builder() : undefined;
  for (const p of passages) {
    const local = await writer.append(p);
    builder?.add(local, `${p.title} ${p.text}`);
  }
  const names = await writer.close();
  if (builder) names.push(...(await builder.build().write(dir)));
  return names;
}
