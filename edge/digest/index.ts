// SHA-256 as lowercase hex (WebCrypto), for API key digests and cache keys.
import { toHex } from '../../shared/protocol/index.ts';

export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))));
}
