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
 * What can be checked before the body is read: both headers present and well formed, the
 * timestamp inside the window. A request failing this is refused without reading its body.
 */
export function checkSignatureHeaders(headers: SignatureHeaderValues, opts: VerifyOptions = {}): VerifyResult {
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
  return { ok: true };
}

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
  const checked = checkSignatureHeaders(headers, opts);
  if (!checked.ok) return checked;
  // crypto.subtle.verify compares in constant time; comparing hex strings would leak how
  // much of a forged signature is right.
  const valid = await crypto.subtle.verify('HMAC', key, fromHex(headers.signature!), signedBytes(headers.timestamp!, body));
  return valid ? { ok: true } : fail('signature does not match');
}

// Answers. A pool node signs every answer to a request that carried well-formed signature
// headers, over the request's timestamp and signature (which cover its body, batch id
// included): an answer cannot be forged, nor moved to another request, without the key.

/** Header of a signed answer: HMAC-SHA256 of `answer.${request timestamp}.${request signature}.` + answer body. */
export const ANSWER_SIGNATURE_HEADER = 'x-edgesearch-answer-signature';

/** The request an answer is bound to: the two signature headers it was sent with. */
export interface SignedRequest {
  timestamp: string;
  signature: string;
}

/** What an answer signature covers: the request's two signature headers, then the answer's bytes. */
function answerBytes(request: SignedRequest, body: Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> {
  return prefixed(`answer.${request.timestamp}.${request.signature.toLowerCase()}.`, body);
}

export async function signAnswer(key: CryptoKey, request: SignedRequest, body: Uint8Array | ArrayBuffer): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', key, answerBytes(request, body));
  return toHex(new Uint8Array(mac));
}

/** Whether `signature` (the answer's header) signs `body` as the answer to `request`. */
export async function verifyAnswer(key: CryptoKey, request: SignedRequest, signature: string | null | undefined, body: Uint8Array | ArrayBuffer): Promise<VerifyResult> {
  if (signature === undefined || signature === null || signature === '') return fail(`the answer has no ${ANSWER_SIGNATURE_HEADER} header`);
  if (!HEX_SIGNATURE.test(signature)) return fail('the answer signature is malformed');
  const valid = await crypto.subtle.verify('HMAC', key, fromHex(signature), answerBytes(request, body));
  return valid ? { ok: true } : fail('the answer signature does not match (forged, altered, or the answer to another request)');
}

// Admin requests. Signed with a key of their own (never the one edges hold), bound to the
// method, path and node they are meant for, and carrying a nonce the node remembers until the
// timestamp leaves the window: a captured request cannot be replayed, here or elsewhere.

export const NONCE_HEADER = 'x-edgesearch-nonce';
export const NODE_HEADER = 'x-edgesearch-node';
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

export interface AdminTarget {
  method: string;
  /** The request path, without query string. */
  path: string;
  /** The id of the node the request is meant for. */
  node: string;
}

function adminPrefix(target: AdminTarget, timestamp: string, nonce: string): string {
  return `admin.${target.method.toUpperCase()}.${target.path}.${target.node}.${timestamp}.${nonce}.`;
}

/** The four headers of an admin request to `target` with `body`. */
export async function adminSignatureHeaders(key: CryptoKey, target: AdminTarget, body: Uint8Array | ArrayBuffer, now: number = Date.now()): Promise<Record<string, string>> {
  const timestamp = timestampString(now);
  const nonceBytes = crypto.getRandomValues(new Uint8Array(16));
  const nonce = toHex(nonceBytes);
  const mac = await crypto.subtle.sign('HMAC', key, prefixed(adminPrefix(target, timestamp, nonce), body));
  return { [TIMESTAMP_HEADER]: timestamp, [NONCE_HEADER]: nonce, [NODE_HEADER]: target.node, [SIGNATURE_HEADER]: toHex(new Uint8Array(mac)) };
}

export interface AdminHeaderValues extends SignatureHeaderValues {
  nonce?: string | null;
  node?: string | null;
}

/**
 * Checks an admin request: well-formed headers inside the window, meant for this node, MAC over
 * method, path, node, timestamp, nonce and body, and a nonce not seen before (it is then kept
 * in `nonces` until the window has passed).
 */
export async function verifyAdminRequest(
  key: CryptoKey,
  target: AdminTarget,
  headers: AdminHeaderValues,
  body: Uint8Array | ArrayBuffer,
  nonces: NonceCache,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const checked = checkSignatureHeaders(headers, opts);
  if (!checked.ok) return checked;
  const { nonce, node } = headers;
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) return fail(`missing or malformed ${NONCE_HEADER} header`);
  if (node !== target.node) return fail(`the request is meant for node ${JSON.stringify(node ?? null)}, this is node ${target.node}`);
  const valid = await crypto.subtle.verify('HMAC', key, fromHex(headers.signature!), prefixed(adminPrefix(target, headers.timestamp!, nonce), body));
  if (!valid) return fail('signature does not match');
  // Checked after the MAC so that only the key holder's nonces take room in the cache.
  const now = opts.now ?? Date.now();
  const windowMs = opts.windowMs ?? DEFAULT_SIGNATURE_WINDOW_MS;
  if (!nonces.claim(nonce, Number(headers.timestamp) + windowMs, now)) return fail('replayed request (nonce already used)');
  return { ok: true };
}

/** Nonces seen, each kept until its request's timestamp leaves the window. */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity = 100_000) {}

  /** Records `nonce` until `expiresAt`; false when it was already recorded (a replay) or the cache is full. */
  claim(nonce: string, expiresAt: number, now: number = Date.now()): boolean {
    for (const [n, until] of this.seen) {
      // Insertion order is roughly expiry order; stop at the first live entry.
      if (until > now) break;
      this.seen.delete(n);
    }
    const until = this.seen.get(nonce);
    if (until !== undefined && until > now) return false;
    if (this.seen.size >= this.capacity) return false;
    this.seen.set(nonce, expiresAt);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

function timestampString(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`timestamp must be a non-negative integer of unix milliseconds, got ${ms}`);
  return String(ms);
}

/** `${timestamp}.` + body: what a request signature covers. */
function signedBytes(timestamp: string, body: Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> {
  return prefixed(`${timestamp}.`, body);
}

/** `text` + body in one fresh buffer (WebCrypto takes a single BufferSource). */
function prefixed(text: string, body: Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> {
  const bytes = body instanceof Uint8Array ? body : new Uint8Array(body);
  const prefix = encoder.encode(text);
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
