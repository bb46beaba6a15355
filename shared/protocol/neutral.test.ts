// The module runs in workerd as well as Node: no Node built-ins, no code generation.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('.', import.meta.url);
const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('.test-'));

describe('runtime neutrality', () => {
  it('finds the module sources', () => {
    expect(sources).toEqual(expect.arrayContaining(['index.ts', 'codec.ts', 'frames.ts', 'limits.ts', 'params.ts', 'signature.ts', 'vectors.ts', 'scan.ts']));
  });

  it.each(sources)('%s uses no Node built-ins and no code generation', (file) => {
    const code = readFileSync(new URL(file, dir), 'utf8').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/from\s+['"]node:/);
    expect(code).not.toMatch(/from\s+['"](fs|path|crypto|buffer|util|stream|os)['"]/);
    expect(code).not.toMatch(/\brequire\s*\(/);
    expect(code).not.toMatch(/\bBuffer\b/);
    expect(code).not.toMatch(/\bprocess\./);
    expect(code).not.toMatch(/new Function|\beval\s*\(/);
  });

  it('imports only zod, msgpackr and its own files', () => {
    for (const file of sources) {
      const code = readFileSync(new URL(file, dir), 'utf8');
      for (const [, spec] of code.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
        expect(['zod', 'msgpackr'].includes(spec) || spec.startsWith('./'), `${file} imports ${spec}`).toBe(true);
      }
    }
  });
});
