// API keys: clients send `Authorization: Bearer <key>`; the edge stores only SHA-256 digests
// of keys (API_KEYS), so a leaked configuration does not leak keys. Keys are random 32-byte
// strings, so an unsalted digest is enough (there is no dictionary to try).
import { ApiError } from '../../shared/api/index.ts';
import type { ApiKeyEntry, RateLimit, Scope } from '../config/index.ts';
import { sha256Hex } from '../digest/index.ts';
import { clientBucket } from '../net/index.ts';

/** Public-mode callers without a readable client address share this one strict bucket. */
export const UNKNOWN_CLIENT = 'unknown';

/** Who is calling: a key, or (public mode) a client address bucket. Names the rate-limit bucket. */
export interface Principal {
  kind: 'key' | 'ip';
  /** The key id, or the client's bucket: `ip4:a.b.c.d`, `ip6:<prefix hex>/<bits>` or `unknown`. */
  id: string;
  scopes: readonly Scope[];
  rate: RateLimit;
}

/** A new random API key (base64url of 32 random bytes, prefixed so it is recognisable in leaks). */
export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `es_${btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

export interface AuthOptions {
  keys: ApiKeyEntry[];
  publicMode: boolean;
  publicRate: RateLimit;
  defaultRate: RateLimit;
  /** Public mode: the rate of the shared bucket of callers without a readable address. */
  unknownClientRate?: RateLimit;
  /** Public mode: IPv6 callers are bucketed by this prefix length (default 64). */
  ipv6PrefixBits?: number;
}

export class Authenticator {
  private readonly byDigest: Map<string, ApiKeyEntry>;

  constructor(private readonly opts: AuthOptions) {
    this.byDigest = new Map(opts.keys.map((k) => [k.sha256, k]));
  }

  /**
   * The principal of a request that needs `scope`. Throws 401 for a missing, malformed or
   * unknown key and 403 for a key without the scope. Without a key, public mode admits
   * searches, rate-limited by the client's address (`clientIp`, CF-Connecting-IP).
   */
  async authenticate(authorization: string | undefined, scope: Scope, clientIp: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization === '') {
      if (this.opts.publicMode && scope === 'search') {
        const bucket = clientBucket(clientIp, this.opts.ipv6PrefixBits ?? 64);
        // Without an address every such caller shares one strict bucket: none gets a fresh one.
        if (bucket === undefined) return { kind: 'ip', id: UNKNOWN_CLIENT, scopes: ['search'], rate: this.opts.unknownClientRate ?? this.opts.publicRate };
        return { kind: 'ip', id: bucket, scopes: ['search'], rate: this.opts.publicRate };
      }
      throw new ApiError('unauthorized', 'missing API key: send "Authorization: Bearer <key>"');
    }
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!match) throw new ApiError('unauthorized', 'malformed Authorization header: expected "Bearer <key>"');
    const entry = this.byDigest.get(await sha256Hex(match[1]));
    if (!entry) throw new ApiError('unauthorized', 'unknown API key');
    if (!entry.scopes.includes(scope)) throw new ApiError('forbidden', `API key "${entry.id}" lacks the "${scope}" scope (it has: ${entry.scopes.join(', ')})`);
    return { kind: 'key', id: entry.id, scopes: entry.scopes, rate: entry.rate ?? this.opts.defaultRate };
  }
}
