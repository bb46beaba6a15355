// What code that must run in workerd as well as Node may not contain: Node built-ins, Buffer,
// process, CommonJS require, or code generation (workerd forbids eval and new Function).
import { expect } from 'vitest';

/** Asserts `code` (a source file's text) is runtime-neutral and imports only what `allowed` accepts. */
export function expectRuntimeNeutral(file: string, code: string, allowed: (spec: string) => boolean): void {
  const src = code.replace(/\/\/.*$/gm, '');
  expect(src, file).not.toMatch(/from\s+['"]node:/);
  expect(src, file).not.toMatch(/from\s+['"](fs|path|crypto|buffer|util|stream|os|http|net|child_process)['"]/);
  expect(src, file).not.toMatch(/\brequire\s*\(/);
  expect(src, file).not.toMatch(/\bBuffer\b/);
  expect(src, file).not.toMatch(/\bprocess\./);
  expect(src, file).not.toMatch(/new Function|\beval\s*\(/);
  for (const [, spec] of code.matchAll(/from\s+['"]([^'"]+)['"]/g)) expect(allowed(spec), `${file} imports ${spec}`).toBe(true);
}
