import { describe, expect, it } from 'vitest';
import { app } from './index.ts';

describe('edge worker', () => {
  it('answers health', async () => {
    const res = await app.request('/v1/health', {}, { POOL_ENDPOINTS: 'http://127.0.0.1:9000' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ edge: 'ok', pool: 'configured' });
  });

  it('returns a JSON error for unknown routes', async () => {
    const res = await app.request('/nope');
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('not_found');
  });
});
