// Where every benchmark's table goes: bench/results/<name>, and standard output.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/fixtures.ts';

export async function writeResultTable(name: string, lines: string[]): Promise<void> {
  const table = lines.join('\n');
  await mkdir(join(REPO_ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(join(REPO_ROOT, 'bench', 'results', name), table);
  process.stdout.write(table);
}
