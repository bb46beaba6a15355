// Request signing between tiers: the edge signs each frame it POSTs, the pool verifies before
// decoding. HMAC-SHA256 over `${timestamp}.` + body, WebCrypto only so the same code runs in
// workerd and Node. The timestamp bounds replay to a short window; it is part of the MAC, so
// it cannot be moved without the secret.

export const SIGNATURE_HEADER = 'x-edgesearch-signature';
export const TIMESTAMP_HEADER = 'x-edgesearch-timestamp';
export const DEFAULT_SIGNATURE_WINDOW_MS = 30_000;

const encoder = new TextEncoder();

/** Imports a shared secret (UTF-8) as an HMAC-SHA256 key for signing and verifying. */
export async function importSigningKey(secret: string): Promise<CryptoKey> {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('signing secret must be a non-empty string');
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/** Lowercase hex HMAC-SHA256 of `${timestampMs}.` followed by the body bytes. */
export async function signBody(key: CryptoKey, timestampMs: number, body: Uint8Array | ArrayBuffer): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', key, signedBytes(timestampString(timestampMs), body));
  return toHex(new Uint8Array(mac));
}

/** The two headers to send with `body`. */
export async function signatureHeaders(key: CryptoKey, body: Uint8Array | ArrayBuffer, now: number = Date.now()): Promise<Record<string, string>> {
  const timestamp = timestampString(now);
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: await signBody(key, now, body) };
}

export interface SignatureHeaderValues {
  timestamp?: string | null;
  signature?: string | null;
}

export interface VerifyOptions {
  /** Current time, unix ms (default Date.now()). */
  now?: number;
  /** Accepted clock difference either way, ms (default 30 000). */
  windowMs?: number;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

const TIMESTAMP = /^(0|[1-9][0-9]{0,15})$/;
const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;

/**
 * Checks the headers of a request against its body. Never throws for anything the peer sent;
 * the reason is for logs, not for the peer (answer 'unauthorized' either way).
 */
export async function verifySignature(
  key: CryptoKey,
  headers: SignatureHeaderValues,
  body: Uint8Array | ArrayBuffer,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const now = opts.now ?? Date.now();
  const windowMs = opts.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS;
  if (!Number.isFinite(now)) throw new RangeError('now must be a finite number');
  if (!Number.isFinite(windowMs) || windowMs < 0) throw new RangeError('windowMs must be a finite number ≥ 0');

  const { timestamp, signature } = headers;
  if (timestamp === undefined || timestamp === null || timestamp === '') return fail(`missing ${TIMESTAMP_HEADER} header`);
  if (signature === undefined || signature === null || signature === '') return fail(`missing ${SIGNATURE_HEADER} header`);
  // Canonical decimal only (no sign, spaces, exponent or leading zeros): one timestamp, one
  // spelling.
  if (typeof timestamp !== 'string' || !TIMESTAMP.test(timestamp)) return fail('malformed timestamp');
  const ts = Number(timestamp);
  if (!Number.isSafeInteger(ts)) return fail('malformed timestamp');
  if (ts < now - windowMs) return fail('stale timestamp');
  if (ts > now + windowMs) return fail('timestamp in the future');
  if (typeof signature !== 'string' || !HEX_SIGNATURE.test(signature)) return fail('malformed signature');

  // crypto.subtle.verify compares in constant time; comparing hex strings would leak how
  // much of a forged signature is right.
  const valid = await crypto.subtle.verify('HMAC', key, fromHex(signature), signedBytes(timestamp, body));
  return valid ? { ok: true } : fail('signature does not match');
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

function timestampString(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`timestamp must be a non-negative integer of unix milliseconds, got ${ms}`);
  return String(ms);
}

/** `${timestamp}.` + body in one fresh buffer (WebCrypto takes a single BufferSource). */
function signedBytes(timestamp: string, body: Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> {
  const bytes = body instanceof Uint8Array ? body : new Uint8Array(body);
  const prefix = encoder.encode(`${timestamp}.`);
  const out = new Uint8Array(prefix.length + bytes.byteLength);
  out.set(prefix, 0);
  out.set(bytes, prefix.length);
  return out;
}

const HEX_DIGITS = '0123456789abcdef';

/** Lowercase hex of `bytes` (signatures here; digests at the edge). */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += HEX_DIGITS[byte >> 4] + HEX_DIGITS[byte & 15];
  return out;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
