// The queries bench:scale searches with: the first 100 SciFact test queries' vectors.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function readQueries(dir: string): Promise<{ d: number; nq: number; vectors: Float32Array }> {
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { d: number; nq: number };
  const buf = await readFile(join(dir, 'queries.f32'));
  return { ...meta, vectors: new Float32Array(buf.buffer, buf.byteOffset, meta.nq * meta.d) };
}
