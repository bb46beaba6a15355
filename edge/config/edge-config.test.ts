import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from './edge-config.ts';

describe('parseEdgeConfig', () => {
  it('has defaults for everything', () => {
    const c = parseEdgeConfig({});
    expect(c).toMatchObject({ endpoints: [], apiKeys: [], publicMode: false, cacheTtlS: 300, batchWindowMs: 2, requestDeadlineMs: 5000 });
    expect(c).toMatchObject({ maxVersionLeaseMs: 5000, publicIpv6PrefixBits: 64, unknownClientRate: { perSecond: 1, burst: 5 } });
    expect(c.publicOrigin).toBeUndefined();
  });

  it('derives the body limits from the query and context limits, and refuses the old MAX_BODY_BYTES', () => {
    // 32 queries of 1,024 characters and a context of 16,384 characters (32 turns), each
    // character 12 bytes at worst (an escaped surrogate pair), plus room for the other fields
    // (1 KiB a query, 128 bytes a turn) and the envelope (1 KiB).
    const query = 1024 * 12 + 1024 + 16_384 * 12 + 32 * 128;
    expect(query).toBe(214_016);
    expect(parseEdgeConfig({})).toMatchObject({ maxBatchQueries: 32, maxSearchBodyBytes: query + 1024, maxBatchBodyBytes: 32 * query + 1024 });
    expect(parseEdgeConfig({ MAX_BATCH_QUERIES: '4' }).maxBatchBodyBytes).toBe(4 * query + 1024);
    expect(() => parseEdgeConfig({ MAX_BODY_BYTES: '65536' })).toThrow(/^MAX_BODY_BYTES: is no longer a setting/);
  });

  it('reads endpoints as a comma list or as JSON with weights and regions', () => {
    expect(parseEdgeConfig({ POOL_ENDPOINTS: 'https://a:1, http://127.0.0.1:2' }).endpoints).toEqual([{ url: 'https://a:1', weight: 1 }, { url: 'http://127.0.0.1:2', weight: 1 }]);
    expect(parseEdgeConfig({ POOL_ENDPOINTS: '[{"url":"https://a:1","weight":3,"region":"EU"}]' }).endpoints).toEqual([{ url: 'https://a:1', weight: 3, region: 'EU' }]);
  });

  it('refuses plain http to a host that is not loopback unless ALLOW_INSECURE_POOL_HTTP says so', () => {
    for (const url of ['http://127.0.0.1:7700', 'http://127.3.2.1', 'http://localhost:7700', 'http://[::1]:7700', 'https://pool.example', 'https://10.0.0.5:7700']) {
      expect(parseEdgeConfig({ POOL_ENDPOINTS: url }).endpoints[0].url, url).toBe(url);
    }
    for (const url of ['http://pool.example:7700', 'http://10.0.0.5:7700', 'http://[2001:db8::1]:7700', 'http://localhost.example']) {
      expect(() => parseEdgeConfig({ POOL_ENDPOINTS: `https://ok.example, ${url}` }), url).toThrow(/^POOL_ENDPOINTS: at 1\.url: .* is not loopback, .*use https, or set ALLOW_INSECURE_POOL_HTTP="true"/);
      expect(parseEdgeConfig({ POOL_ENDPOINTS: url, ALLOW_INSECURE_POOL_HTTP: 'true' }).endpoints[0].url).toBe(url);
    }
    expect(() => parseEdgeConfig({ POOL_ENDPOINTS: 'http://pool.example', ALLOW_INSECURE_POOL_HTTP: 'false' })).toThrow(/^POOL_ENDPOINTS/);
    expect(() => parseEdgeConfig({ POOL_ENDPOINTS: 'ftp://pool.example' })).toThrow(/^POOL_ENDPOINTS: at 0\.url: must be an http\(s\) URL/);
    expect(() => parseEdgeConfig({ ALLOW_INSECURE_POOL_HTTP: 'yes' })).toThrow(/^ALLOW_INSECURE_POOL_HTTP: expected "true" or "false"/);
  });

  it('reads the security settings, with their ranges', () => {
    const c = parseEdgeConfig({ MAX_VERSION_LEASE_MS: '0', PUBLIC_IPV6_PREFIX: '56', UNKNOWN_CLIENT_RATE: '{"perSecond":0.5,"burst":2}', PUBLIC_ORIGIN: 'https://search.example.com/' });
    expect(c).toMatchObject({ maxVersionLeaseMs: 0, publicIpv6PrefixBits: 56, unknownClientRate: { perSecond: 0.5, burst: 2 }, publicOrigin: 'https://search.example.com' });
    expect(() => parseEdgeConfig({ MAX_VERSION_LEASE_MS: '600001' })).toThrow('MAX_VERSION_LEASE_MS: expected an integer in [0, 600000], got "600001"');
    expect(() => parseEdgeConfig({ PUBLIC_IPV6_PREFIX: '16' })).toThrow('PUBLIC_IPV6_PREFIX: expected an integer in [32, 128], got "16"');
    expect(() => parseEdgeConfig({ UNKNOWN_CLIENT_RATE: '{"perSecond":1}' })).toThrow(/^UNKNOWN_CLIENT_RATE: at burst/);
    for (const bad of ['search.example.com', 'https://search.example.com/api', 'https://u:p@search.example.com', 'javascript:alert(1)', 'https://search.example.com/?x=1']) {
      expect(() => parseEdgeConfig({ PUBLIC_ORIGIN: bad }), bad).toThrow(/^PUBLIC_ORIGIN: /);
    }
  });

  it('reads the conversation settings, bounded so a stored history is always a valid context', () => {
    expect(parseEdgeConfig({}).conversations).toEqual({ ttlS: 86_400, maxTurns: 32, maxTurnBytes: 8192, maxBytes: 16_384 });
    const c = parseEdgeConfig({ CONVERSATION_TTL_S: '5', CONVERSATION_MAX_TURNS: '8', CONVERSATION_MAX_TURN_BYTES: '1500', CONVERSATION_MAX_BYTES: '8000' });
    expect(c.conversations).toEqual({ ttlS: 5, maxTurns: 8, maxTurnBytes: 1500, maxBytes: 8000 });
    expect(() => parseEdgeConfig({ CONVERSATION_TTL_S: '0' })).toThrow('CONVERSATION_TTL_S: expected an integer in [1, 2592000], got "0"');
    expect(() => parseEdgeConfig({ CONVERSATION_MAX_TURNS: '33' })).toThrow('CONVERSATION_MAX_TURNS: expected an integer in [1, 32], got "33"');
    expect(() => parseEdgeConfig({ CONVERSATION_MAX_BYTES: '16385' })).toThrow('CONVERSATION_MAX_BYTES: expected an integer in [64, 16384], got "16385"');
    expect(() => parseEdgeConfig({ CONVERSATION_MAX_TURN_BYTES: 'many' })).toThrow(/^CONVERSATION_MAX_TURN_BYTES/);
  });

  it('names the variable and the field that is wrong', () => {
    expect(() => parseEdgeConfig({ POOL_ENDPOINTS: 'not a url' })).toThrow(/^POOL_ENDPOINTS: at 0\.url: must be an http\(s\) URL/);
    expect(() => parseEdgeConfig({ POOL_ENDPOINTS: '[{"url":"https://a","weight":0}]' })).toThrow(/^POOL_ENDPOINTS: at 0\.weight/);
    expect(() => parseEdgeConfig({ API_KEYS: '[{"id":"a","sha256":"abc","scopes":["search"]}]' })).toThrow(/^API_KEYS: at 0\.sha256: must be 64 lowercase hex/);
    expect(() => parseEdgeConfig({ API_KEYS: '{' })).toThrow(/^API_KEYS: not valid JSON/);
    expect(() => parseEdgeConfig({ API_KEYS: JSON.stringify([1, 2].map(() => ({ id: 'a', sha256: 'a'.repeat(64), scopes: ['search'] }))) })).toThrow('API_KEYS: duplicate key id "a"');
    expect(() => parseEdgeConfig({ CACHE_TTL_S: '-1' })).toThrow('CACHE_TTL_S: expected an integer in [0, 31536000], got "-1"');
    expect(() => parseEdgeConfig({ PUBLIC_MODE: 'yes' })).toThrow(/^PUBLIC_MODE/);
  });
});
