import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Authenticator, generateApiKey } from './api-keys.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const rate = { perSecond: 1, burst: 2 };

function auth(publicMode = false) {
  return new Authenticator({
    keys: [
      { id: 'reader', sha256: sha('es_reader'), scopes: ['search'], rate: { perSecond: 9, burst: 9 } },
      { id: 'ops', sha256: sha('es_ops'), scopes: ['admin'] },
    ],
    publicMode,
    publicRate: { perSecond: 2, burst: 4 },
    defaultRate: rate,
    unknownClientRate: { perSecond: 0.5, burst: 1 },
    ipv6PrefixBits: 48,
  });
}

describe('Authenticator', () => {
  it('accepts a known key with the scope, by its SHA-256 digest', async () => {
    expect(await auth().authenticate('Bearer es_reader', 'search', '1.2.3.4')).toEqual({ kind: 'key', id: 'reader', scopes: ['search'], rate: { perSecond: 9, burst: 9 } });
    expect(await auth().authenticate('bearer   es_ops ', 'admin', '1.2.3.4')).toMatchObject({ id: 'ops', rate });
  });

  it('401 for a missing, malformed or unknown key; 403 for a missing scope', async () => {
    await expect(auth().authenticate(undefined, 'search', 'ip')).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    await expect(auth().authenticate('Token es_reader', 'search', 'ip')).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(auth().authenticate('Bearer es_reader extra', 'search', 'ip')).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(auth().authenticate('Bearer es_other', 'search', 'ip')).rejects.toMatchObject({ code: 'unauthorized', message: 'unknown API key' });
    await expect(auth().authenticate('Bearer es_reader', 'admin', 'ip')).rejects.toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('in public mode admits keyless searches by client address bucket, never admin', async () => {
    expect(await auth(true).authenticate(undefined, 'search', '10.0.0.1')).toEqual({ kind: 'ip', id: 'ip4:10.0.0.1', scopes: ['search'], rate: { perSecond: 2, burst: 4 } });
    expect(await auth(true).authenticate(undefined, 'search', '::ffff:10.0.0.1')).toMatchObject({ id: 'ip4:10.0.0.1' });
    expect(await auth(true).authenticate(undefined, 'search', '2001:db8:7:1::5')).toMatchObject({ id: 'ip6:20010db80007/48' });
    expect(await auth(true).authenticate(undefined, 'search', '2001:db8:7:ffff:1:2:3:4')).toMatchObject({ id: 'ip6:20010db80007/48' });
    // No readable address: one shared, stricter bucket.
    for (const ip of [undefined, '', 'unknown', '10.0.0.1, 10.0.0.2']) {
      expect(await auth(true).authenticate(undefined, 'search', ip)).toEqual({ kind: 'ip', id: 'unknown', scopes: ['search'], rate: { perSecond: 0.5, burst: 1 } });
    }
    await expect(auth(true).authenticate(undefined, 'admin', '10.0.0.1')).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(auth(true).authenticate('Bearer wrong', 'search', '10.0.0.1')).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('generates distinct url-safe keys', () => {
    const keys = new Set(Array.from({ length: 100 }, generateApiKey));
    expect(keys.size).toBe(100);
    for (const k of keys) expect(k).toMatch(/^es_[A-Za-z0-9_-]{43}$/);
  });
});
