import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  NODE_HEADER,
  NONCE_HEADER,
  NonceCache,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  adminSignatureHeaders,
  checkSignatureHeaders,
  importSigningKey,
  signAnswer,
  verifyAdminRequest,
  verifyAnswer,
  signBody,
  signatureHeaders,
  verifySignature,
} from './index.ts';

const SECRET = 'correct horse battery staple';
const NOW = 1767225600000;
const body = new TextEncoder().encode('\x85\xa1v\x01 some msgpack bytes \u00ff');

async function signed(now = NOW, b: Uint8Array = body) {
  const key = await importSigningKey(SECRET);
  const headers = await signatureHeaders(key, b, now);
  return { key, timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER] };
}

describe('signing', () => {
  it('matches an HMAC-SHA256 computed independently with node:crypto', async () => {
    const key = await importSigningKey(SECRET);
    const expected = createHmac('sha256', SECRET).update(`${NOW}.`).update(body).digest('hex');
    expect(await signBody(key, NOW, body)).toBe(expected);
    const empty = createHmac('sha256', SECRET).update('0.').digest('hex');
    expect(await signBody(key, 0, new Uint8Array(0))).toBe(empty);
  });

  it('produces both headers: decimal unix ms and 64 lowercase hex digits', async () => {
    const key = await importSigningKey(SECRET);
    const headers = await signatureHeaders(key, body, NOW);
    expect(Object.keys(headers).sort()).toEqual([SIGNATURE_HEADER, TIMESTAMP_HEADER].sort());
    expect(SIGNATURE_HEADER).toBe('x-edgesearch-signature');
    expect(TIMESTAMP_HEADER).toBe('x-edgesearch-timestamp');
    expect(headers[TIMESTAMP_HEADER]).toBe(String(NOW));
    expect(headers[SIGNATURE_HEADER]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('defaults to the current time', async () => {
    const key = await importSigningKey(SECRET);
    const before = Date.now();
    const headers = await signatureHeaders(key, body);
    const ts = Number(headers[TIMESTAMP_HEADER]);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Date.now());
    expect(await verifySignature(key, { timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER] }, body)).toEqual({ ok: true });
  });

  it('signs exactly the bytes of a view, wherever it sits in its buffer', async () => {
    const key = await importSigningKey(SECRET);
    const host = new Uint8Array(body.length + 5).fill(0xee);
    host.set(body, 3);
    const view = host.subarray(3, 3 + body.length);
    expect(await signBody(key, NOW, view)).toBe(await signBody(key, NOW, body));
    expect(await signBody(key, NOW, body.slice().buffer)).toBe(await signBody(key, NOW, body));
  });

  it('refuses an empty secret and a non-integer or negative timestamp', async () => {
    await expect(importSigningKey('')).rejects.toThrow(TypeError);
    const key = await importSigningKey(SECRET);
    await expect(signBody(key, 1.5, body)).rejects.toThrow(RangeError);
    await expect(signBody(key, -1, body)).rejects.toThrow(RangeError);
    await expect(signBody(key, NaN, body)).rejects.toThrow(RangeError);
  });
});

describe('verifying', () => {
  it('accepts a valid signature, at the edges of the window too', async () => {
    const { key, timestamp, signature } = await signed();
    expect(await verifySignature(key, { timestamp, signature }, body, { now: NOW })).toEqual({ ok: true });
    expect(await verifySignature(key, { timestamp, signature }, body, { now: NOW + 30_000 })).toEqual({ ok: true });
    expect(await verifySignature(key, { timestamp, signature }, body, { now: NOW - 30_000 })).toEqual({ ok: true });
    // Uppercase hex is the same bytes.
    expect(await verifySignature(key, { timestamp, signature: signature.toUpperCase() }, body, { now: NOW })).toEqual({ ok: true });
  });

  it('rejects a tampered body', async () => {
    const { key, timestamp, signature } = await signed();
    for (const i of [0, 5, body.length - 1]) {
      const tampered = body.slice();
      tampered[i] ^= 1;
      expect(await verifySignature(key, { timestamp, signature }, tampered, { now: NOW })).toEqual({ ok: false, reason: 'signature does not match' });
    }
    expect((await verifySignature(key, { timestamp, signature }, body.subarray(0, body.length - 1), { now: NOW })).ok).toBe(false);
    const longer = new Uint8Array([...body, 0]);
    expect((await verifySignature(key, { timestamp, signature }, longer, { now: NOW })).ok).toBe(false);
  });

  it('rejects a tampered timestamp (it is covered by the MAC)', async () => {
    const { key, signature } = await signed();
    for (const ts of [NOW + 1, NOW - 1, NOW + 1000]) {
      expect(await verifySignature(key, { timestamp: String(ts), signature }, body, { now: NOW })).toEqual({ ok: false, reason: 'signature does not match' });
    }
  });

  it('rejects a tampered signature and a signature made with another key', async () => {
    const { key, timestamp, signature } = await signed();
    const flipped = (signature[0] === '0' ? '1' : '0') + signature.slice(1);
    expect((await verifySignature(key, { timestamp, signature: flipped }, body, { now: NOW })).ok).toBe(false);
    const other = await importSigningKey(`${SECRET}!`);
    expect(await verifySignature(other, { timestamp, signature }, body, { now: NOW })).toEqual({ ok: false, reason: 'signature does not match' });
  });

  it('rejects stale and future timestamps, even when correctly signed', async () => {
    const { key, timestamp, signature } = await signed();
    expect(await verifySignature(key, { timestamp, signature }, body, { now: NOW + 30_001 })).toEqual({ ok: false, reason: 'stale timestamp' });
    expect(await verifySignature(key, { timestamp, signature }, body, { now: NOW - 30_001 })).toEqual({ ok: false, reason: 'timestamp in the future' });
    expect(await verifySignature(key, { timestamp, signature }, body, { now: NOW + 5_001, windowMs: 5_000 })).toEqual({ ok: false, reason: 'stale timestamp' });
    expect(await verifySignature(key, { timestamp, signature }, body, { now: NOW + 4_999, windowMs: 5_000 })).toEqual({ ok: true });
  });

  it('rejects missing headers', async () => {
    const { key, timestamp, signature } = await signed();
    for (const missing of [undefined, null, '']) {
      expect(await verifySignature(key, { timestamp: missing, signature }, body, { now: NOW })).toEqual({ ok: false, reason: `missing ${TIMESTAMP_HEADER} header` });
      expect(await verifySignature(key, { timestamp, signature: missing }, body, { now: NOW })).toEqual({ ok: false, reason: `missing ${SIGNATURE_HEADER} header` });
    }
    expect((await verifySignature(key, {}, body, { now: NOW })).ok).toBe(false);
  });

  it('rejects malformed timestamps', async () => {
    const { key, signature } = await signed();
    for (const timestamp of ['abc', '12a', '-5', '+1767225600000', '1.767e12', '1767225600000.0', ' 1767225600000', '01767225600000', '0x1', '99999999999999999', 'Infinity']) {
      expect(await verifySignature(key, { timestamp, signature }, body, { now: NOW })).toEqual({ ok: false, reason: 'malformed timestamp' });
    }
  });

  it('rejects malformed signatures', async () => {
    const { key, timestamp, signature } = await signed();
    for (const bad of [signature.slice(1), `${signature}0`, `${signature.slice(0, 63)}g`, `sha256=${signature}`, ' '.repeat(64), signature.replace(/./g, 'z')]) {
      expect(await verifySignature(key, { timestamp, signature: bad }, body, { now: NOW })).toEqual({ ok: false, reason: 'malformed signature' });
    }
  });

  it('refuses nonsensical options (a programming error, not a peer’s)', async () => {
    const { key, timestamp, signature } = await signed();
    await expect(verifySignature(key, { timestamp, signature }, body, { windowMs: -1 })).rejects.toThrow(RangeError);
    await expect(verifySignature(key, { timestamp, signature }, body, { now: NaN })).rejects.toThrow(RangeError);
  });
});

describe('answer signatures', () => {
  it('bind an answer to the request it answers', async () => {
    const key = await importSigningKey('answer-key');
    const body = new TextEncoder().encode('answer body');
    const request = { timestamp: '1700000000000', signature: 'ab'.repeat(32) };
    const sig = await signAnswer(key, request, body);
    expect(await verifyAnswer(key, request, sig, body)).toEqual({ ok: true });
    // Another request, an altered body, another key, no header: all refused.
    expect((await verifyAnswer(key, { ...request, timestamp: '1700000000001' }, sig, body)).ok).toBe(false);
    expect((await verifyAnswer(key, { ...request, signature: 'cd'.repeat(32) }, sig, body)).ok).toBe(false);
    expect((await verifyAnswer(key, request, sig, new TextEncoder().encode('answer bodY'))).ok).toBe(false);
    expect((await verifyAnswer(await importSigningKey('other'), request, sig, body)).ok).toBe(false);
    expect(await verifyAnswer(key, request, undefined, body)).toEqual({ ok: false, reason: expect.stringMatching(/no x-edgesearch-answer-signature/) });
    // An answer signature is never a valid request signature (domain separated).
    expect((await verifySignature(key, { timestamp: request.timestamp, signature: sig }, body, { now: 1700000000000 })).ok).toBe(false);
  });
});

describe('admin signatures', () => {
  const target = { method: 'POST', path: '/v1/admin/swap', node: 'n1' };
  const body = new TextEncoder().encode('{"shard":0}');
  const now = 1_700_000_000_000;

  it('accept a fresh request once and refuse its replay', async () => {
    const key = await importSigningKey('admin-key');
    const h = await adminSignatureHeaders(key, target, body, now);
    const values = { timestamp: h[TIMESTAMP_HEADER], signature: h[SIGNATURE_HEADER], nonce: h[NONCE_HEADER], node: h[NODE_HEADER] };
    const nonces = new NonceCache();
    expect(await verifyAdminRequest(key, target, values, body, nonces, { now })).toEqual({ ok: true });
    expect(await verifyAdminRequest(key, target, values, body, nonces, { now: now + 1000 })).toEqual({ ok: false, reason: expect.stringMatching(/replayed/) });
    // Once the window has passed the timestamp is stale, so the forgotten nonce cannot be reused.
    expect(await verifyAdminRequest(key, target, values, body, nonces, { now: now + 31_000 })).toEqual({ ok: false, reason: 'stale timestamp' });
    expect(nonces.size).toBe(1);
    nonces.claim('x'.repeat(16), now + 40_000, now + 32_000);
    expect(nonces.size).toBe(1);
  });

  it('are bound to method, path, node and key', async () => {
    const key = await importSigningKey('admin-key');
    const h = await adminSignatureHeaders(key, target, body, now);
    const values = { timestamp: h[TIMESTAMP_HEADER], signature: h[SIGNATURE_HEADER], nonce: h[NONCE_HEADER], node: h[NODE_HEADER] };
    const check = (t: typeof target, v = values, k = key) => verifyAdminRequest(k, t, v, body, new NonceCache(), { now });
    expect((await check({ ...target, node: 'n2' })).ok).toBe(false);
    expect((await check({ ...target, node: 'n2' }, { ...values, node: 'n2' })).ok).toBe(false);
    expect((await check({ ...target, path: '/v1/admin/other' })).ok).toBe(false);
    expect((await check({ ...target, method: 'PUT' })).ok).toBe(false);
    expect((await check(target, values, await importSigningKey('edge-key'))).ok).toBe(false);
    expect((await check(target, { ...values, nonce: 'short' })).ok).toBe(false);
    // A search-frame signature made with the same key is not an admin signature.
    const plain = await signatureHeaders(key, body, now);
    expect((await check(target, { ...values, signature: plain[SIGNATURE_HEADER] })).ok).toBe(false);
  });

  it('checkSignatureHeaders refuses what needs no body to refuse', () => {
    expect(checkSignatureHeaders({}, { now })).toEqual({ ok: false, reason: 'missing x-edgesearch-timestamp header' });
    expect(checkSignatureHeaders({ timestamp: String(now - 60_000), signature: 'a'.repeat(64) }, { now })).toEqual({ ok: false, reason: 'stale timestamp' });
    expect(checkSignatureHeaders({ timestamp: String(now), signature: 'a'.repeat(64) }, { now })).toEqual({ ok: true });
  });
});
