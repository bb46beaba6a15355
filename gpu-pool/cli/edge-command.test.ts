import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.ts';

describe('edgesearch edge keygen', () => {
  it('prints a new key and the API_KEYS entry holding only its SHA-256', async () => {
    const r = await runCli(['edge', 'keygen', '--id', 'acme', '--scopes', 'search,admin', '--rate', '20/40']);
    expect(r.code).toBe(0);
    const [key, entryLine] = r.stdout.trim().split('\n');
    expect(key).toMatch(/^es_[A-Za-z0-9_-]{43}$/);
    const entry = JSON.parse(entryLine);
    expect(entry).toEqual({ id: 'acme', sha256: createHash('sha256').update(key).digest('hex'), scopes: ['search', 'admin'], rate: { perSecond: 20, burst: 40 } });
    expect(entryLine).not.toContain(key);
    const again = await runCli(['edge', 'keygen', '--id', 'acme']);
    expect(again.stdout.split('\n')[0]).not.toBe(key);
  });

  it('rejects an unknown scope or a malformed rate, naming the option', async () => {
    const scope = await runCli(['edge', 'keygen', '--id', 'x', '--scopes', 'search,write']);
    expect(scope.code).toBe(1);
    expect(scope.stderr).toMatch(/--scopes: .*"search".*"admin"/s);
    const rate = await runCli(['edge', 'keygen', '--id', 'x', '--rate', 'fast']);
    expect(rate.code).toBe(2);
    expect(rate.stderr).toContain('--rate must be <per second>/<burst>');
  });
});
