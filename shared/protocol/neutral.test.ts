// The module runs in workerd as well as Node: no Node built-ins, no code generation.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectRuntimeNeutral } from '../../test/runtime-neutral.ts';

const dir = new URL('.', import.meta.url);
const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('.test-'));

describe('runtime neutrality', () => {
  it('finds the module sources', () => {
    expect(sources).toEqual(expect.arrayContaining(['index.ts', 'codec.ts', 'frames.ts', 'limits.ts', 'params.ts', 'signature.ts', 'vectors.ts', 'scan.ts']));
  });

  it.each(sources)('%s uses no Node built-ins and no code generation, and imports only zod, msgpackr and its own files', (file) => {
    expectRuntimeNeutral(file, readFileSync(new URL(file, dir), 'utf8'), (spec) => spec === 'zod' || spec === 'msgpackr' || spec.startsWith('./'));
  });
});
