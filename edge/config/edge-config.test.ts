import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from './edge-config.ts';

describe('parseEdgeConfig', () => {
  it('has defaults for everything', () => {
    const c = parseEdgeConfig({});
    expect(c).toMatchObject({ endpoints: [], apiKeys: [], publicMode: false, cacheTtlS: 300, batchWindowMs: 2, maxBodyBytes: 65536, requestDeadlineMs: 5000 });
  });

  it('reads endpoints as a comma list or as JSON with weights and regions', () => {
    expect(parseEdgeConfig({ POOL_ENDPOINTS: 'http://a:1, http://b:2' }).endpoints).toEqual([{ url: 'http://a:1', weight: 1 }, { url: 'http://b:2', weight: 1 }]);
    expect(parseEdgeConfig({ POOL_ENDPOINTS: '[{"url":"http://a:1","weight":3,"region":"EU"}]' }).endpoints).toEqual([{ url: 'http://a:1', weight: 3, region: 'EU' }]);
  });

  it('names the variable and the field that is wrong', () => {
    expect(() => parseEdgeConfig({ POOL_ENDPOINTS: 'not a url' })).toThrow(/^POOL_ENDPOINTS: at 0\.url: must be an http\(s\) URL/);
    expect(() => parseEdgeConfig({ POOL_ENDPOINTS: '[{"url":"http://a","weight":0}]' })).toThrow(/^POOL_ENDPOINTS: at 0\.weight/);
    expect(() => parseEdgeConfig({ API_KEYS: '[{"id":"a","sha256":"abc","scopes":["search"]}]' })).toThrow(/^API_KEYS: at 0\.sha256: must be 64 lowercase hex/);
    expect(() => parseEdgeConfig({ API_KEYS: '{' })).toThrow(/^API_KEYS: not valid JSON/);
    expect(() => parseEdgeConfig({ API_KEYS: JSON.stringify([1, 2].map(() => ({ id: 'a', sha256: 'a'.repeat(64), scopes: ['search'] }))) })).toThrow('API_KEYS: duplicate key id "a"');
    expect(() => parseEdgeConfig({ CACHE_TTL_S: '-1' })).toThrow('CACHE_TTL_S: expected an integer in [0, 31536000], got "-1"');
    expect(() => parseEdgeConfig({ PUBLIC_MODE: 'yes' })).toThrow(/^PUBLIC_MODE/);
  });
});
