import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  importSigningKey,
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
