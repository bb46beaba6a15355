import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../shared/api/index.ts';
import { ConfigError } from '../config/index.ts';
import { publicError } from './errors.ts';

afterEach(() => vi.restoreAllMocks());

describe('publicError', () => {
  it('passes 4xx errors on as they are: they are about the caller’s own request', () => {
    const err = new ApiError('bad_request', 'k: must be at most 100', 'k');
    expect(publicError(err, 'r0')).toBe(err);
  });

  it('gives 5xx a generic message with the request id, and logs the detail under that id', () => {
    const lines: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((m: string) => void lines.push(`warn ${m}`));
    vi.spyOn(console, 'error').mockImplementation((m: string) => void lines.push(`error ${m}`));
    const pool = new ApiError('pool_unavailable', 'no pool endpoint answered: http://10.1.2.3:7700: not-ready: cannot open /srv/shards/1/index.faiss', undefined, 1);
    const shown = publicError(pool, 'r1');
    expect(shown).toMatchObject({ code: 'pool_unavailable', status: 503, retryAfterS: 1, message: 'the search pool is unavailable; retry later (request id r1)' });
    const config = publicError(new ConfigError('API_KEYS', 'not valid JSON: Unexpected token'), 'r2');
    expect(config).toMatchObject({ code: 'internal', status: 500, message: 'the edge could not handle this request (request id r2)' });
    expect(publicError(new TypeError('x is undefined'), 'r3').message).toBe('the edge could not handle this request (request id r3)');
    expect(publicError(new ApiError('bad_gateway', "the pool's answer was refused: http://10.1.2.3:7700 answered HTTP 200, not authenticated"), 'r4').message).toBe(
      'the search pool gave an answer the edge could not use; retry later (request id r4)',
    );
    expect(publicError(new ApiError('deadline_exceeded', 'the pool did not answer in time (http://10.1.2.3:7700: no answer)'), 'r5').message).toBe('the search pool did not answer in time; retry later (request id r5)');
    // The same failure again: a line for this request too, pointing at the one with the detail.
    publicError(pool, 'r6');
    expect(lines[0]).toBe(`warn [request r1] 503 pool_unavailable: ${pool.message}`);
    expect(lines[1]).toBe('error [request r2] 500 internal: the edge is misconfigured: API_KEYS: not valid JSON: Unexpected token');
    expect(lines[2]).toMatch(/^error \[request r3\] 500 internal: TypeError: x is undefined/);
    expect(lines.at(-1)).toBe('warn [request r6] 503 pool_unavailable: the same failure as request r1 (its detail is logged once per 10 s)');
  });
});
