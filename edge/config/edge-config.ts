// The edge's configuration, read from the Worker's environment (wrangler.toml [vars] and
// secrets) and validated once per isolate. A bad value fails every request (a generic 500; the
// log names the variable), rather than running with a silently different setting.
import { z } from 'zod';
import { DEFAULT_MAX_BATCH_QUERIES, MAX_CONTEXT_CHARS, MAX_CONTEXT_TURNS, batchBodyLimit, searchBodyLimit } from '../../shared/api/index.ts';
import type { RateLimiterNamespace } from '../rate-limit/index.ts';
import type { DurableObjectNamespaceLike } from './namespace.ts';
import { isLoopbackHost } from '../net/index.ts';

export const PoolEndpoint = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  weight: z.number().positive().max(1000).default(1),
  region: z.string().min(1).max(64).optional(),
});
export type PoolEndpoint = z.output<typeof PoolEndpoint>;

export const Scope = z.enum(['search', 'admin']);
export type Scope = z.infer<typeof Scope>;

export const RateLimit = z.strictObject({
  /** Tokens added per second. */
  perSecond: z.number().positive().max(1_000_000),
  /** Bucket size: the burst a client may send at once. */
  burst: z.number().int().min(1).max(1_000_000),
});
export type RateLimit = z.infer<typeof RateLimit>;

export const ApiKeyEntry = z.strictObject({
  /** Names the key in logs and rate-limit buckets; never the key itself. */
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'key ids are 1-64 letters, digits, "_", "-" or "."' }),
  /** Lowercase hex SHA-256 of the key (`edgesearch edge keygen` prints it). */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex digits (SHA-256 of the key)' }),
  scopes: z.array(Scope).min(1),
  rate: RateLimit.optional(),
});
export type ApiKeyEntry = z.infer<typeof ApiKeyEntry>;

/** The environment the worker is bound to (wrangler.toml and secrets). */
export interface EdgeEnv {
  POOL_ENDPOINTS?: string;
  POOL_SIGNING_KEY?: string;
  API_KEYS?: string;
  PUBLIC_MODE?: string;
  PUBLIC_RATE?: string;
  DEFAULT_RATE?: string;
  CORS_ORIGINS?: string;
  CACHE_TTL_S?: string;
  BATCH_WINDOW_MS?: string;
  BATCH_MAX_QUERIES?: string;
  MAX_BATCH_QUERIES?: string;
  /** Gone: body limits follow from the query limits. Set, it is a configuration error. */
  MAX_BODY_BYTES?: string;
  REQUEST_DEADLINE_MS?: string;
  RETRY_BASE_MS?: string;
  BREAKER_FAILURES?: string;
  BREAKER_COOLDOWN_MS?: string;
  MEMORY_CACHE_ENTRIES?: string;
  ALLOW_INSECURE_POOL_HTTP?: string;
  MAX_VERSION_LEASE_MS?: string;
  PUBLIC_IPV6_PREFIX?: string;
  UNKNOWN_CLIENT_RATE?: string;
  PUBLIC_ORIGIN?: string;
  /** The Durable Object namespace of rate-limit buckets. */
  RATE_LIMITER?: RateLimiterNamespace;
  /** Seconds a stored conversation lives without a call (then an alarm erases it). */
  CONVERSATION_TTL_S?: string;
  /** Turns a stored conversation keeps (at most MAX_CONTEXT_TURNS, so its history is a valid context). */
  CONVERSATION_MAX_TURNS?: string;
  /** UTF-8 bytes of one stored turn (query and response). */
  CONVERSATION_MAX_TURN_BYTES?: string;
  /** UTF-8 bytes of a stored conversation's turns together (at most MAX_CONTEXT_CHARS, so its history is a valid context). */
  CONVERSATION_MAX_BYTES?: string;
  /** The Durable Object namespace of stored conversations (one object per conversation). */
  CONVERSATIONS?: DurableObjectNamespaceLike;
}

/** The limits a stored conversation is kept under. */
export interface ConversationSettings {
  ttlS: number;
  maxTurns: number;
  maxTurnBytes: number;
  maxBytes: number;
}

export interface EdgeConfig {
  endpoints: PoolEndpoint[];
  /** Plain http:// endpoints off loopback were explicitly allowed. */
  allowInsecurePoolHttp: boolean;
  signingKey?: string;
  apiKeys: ApiKeyEntry[];
  publicMode: boolean;
  publicRate: RateLimit;
  /** Public mode: the one bucket of callers without a readable client address. */
  unknownClientRate: RateLimit;
  /** Public mode: IPv6 callers share a bucket per prefix of this many bits. */
  publicIpv6PrefixBits: number;
  defaultRate: RateLimit;
  corsOrigins: string[];
  cacheTtlS: number;
  memoryCacheEntries: number;
  batchWindowMs: number;
  batchMaxQueries: number;
  maxBatchQueries: number;
  /** Body limits, derived from the query limits and maxBatchQueries (shared/api/limits.ts). */
  maxSearchBodyBytes: number;
  maxBatchBodyBytes: number;
  requestDeadlineMs: number;
  retryBaseMs: number;
  breakerFailures: number;
  breakerCooldownMs: number;
  /** The longest version promise of the pool the edge relies on. */
  maxVersionLeaseMs: number;
  /** The origin /openapi.json names as its server; absent: a relative server `/`. */
  publicOrigin?: string;
  /** Stored conversations: idle TTL and size limits. */
  conversations: ConversationSettings;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

function number(env: EdgeEnv, name: keyof EdgeEnv, fallback: number, min: number, max: number, integer = true): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new ConfigError(name, `expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return value;
}

function json<T extends z.ZodType>(name: keyof EdgeEnv, schema: T, raw: string): z.output<T> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(name, `not valid JSON: ${(err as Error).message}`);
  }
  return validated(name, schema, value);
}

function validated<T extends z.ZodType>(name: keyof EdgeEnv, schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(name, `${issue.path.length ? `at ${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}

function flag(env: EdgeEnv, name: keyof EdgeEnv, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'string' ? raw.trim() : raw;
  if (value !== 'true' && value !== 'false') throw new ConfigError(name, `expected "true" or "false", got ${JSON.stringify(raw)}`);
  return value === 'true';
}

/** `POOL_ENDPOINTS`: a JSON list of {url, weight?, region?}, or URLs separated by commas. */
function endpoints(env: EdgeEnv, allowInsecureHttp: boolean): PoolEndpoint[] {
  const raw = (env.POOL_ENDPOINTS ?? '').trim();
  if (raw === '') return [];
  const list = z.array(PoolEndpoint).min(1);
  const parsed = raw.startsWith('[') ? json('POOL_ENDPOINTS', list, raw) : validated('POOL_ENDPOINTS', list, raw.split(',').map((url) => ({ url: url.trim() })));
  // Signed answers stop forgery, not reading: plain http off the machine exposes queries and
  // hits to the path, so it takes an explicit opt-in.
  if (!allowInsecureHttp) {
    for (const [i, e] of parsed.entries()) {
      const url = new URL(e.url);
      if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
        throw new ConfigError(
          'POOL_ENDPOINTS',
          `at ${i}.url: ${url.host} is not loopback, so plain http would carry queries and answers in the clear; use https, or set ALLOW_INSECURE_POOL_HTTP="true" to allow it`,
        );
      }
    }
  }
  return parsed;
}

/** `PUBLIC_ORIGIN`: scheme, host and port only (it becomes the OpenAPI server URL). */
function publicOrigin(env: EdgeEnv): string | undefined {
  const raw = (env.PUBLIC_ORIGIN ?? '').trim();
  if (raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('PUBLIC_ORIGIN', `not a URL: ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
    throw new ConfigError('PUBLIC_ORIGIN', `expected an origin such as https://search.example.com, got ${JSON.stringify(raw)}`);
  }
  return url.origin;
}

const DEFAULT_RATE: RateLimit = { perSecond: 50, burst: 100 };
const DEFAULT_PUBLIC_RATE: RateLimit = { perSecond: 2, burst: 10 };
const DEFAULT_UNKNOWN_CLIENT_RATE: RateLimit = { perSecond: 1, burst: 5 };

export function parseEdgeConfig(env: EdgeEnv): EdgeConfig {
  const apiKeys = env.API_KEYS ? json('API_KEYS', z.array(ApiKeyEntry), env.API_KEYS) : [];
  const ids = new Set<string>();
  for (const k of apiKeys) {
    if (ids.has(k.id)) throw new ConfigError('API_KEYS', `duplicate key id "${k.id}"`);
    ids.add(k.id);
  }
  // A fixed byte limit refused valid batches (32 long CJK queries); it is derived now, and a
  // setting that would no longer be honoured is refused rather than ignored.
  if (env.MAX_BODY_BYTES !== undefined && env.MAX_BODY_BYTES !== '') {
    throw new ConfigError('MAX_BODY_BYTES', 'is no longer a setting: body limits follow from the query limits and MAX_BATCH_QUERIES; remove it');
  }
  const maxBatchQueries = number(env, 'MAX_BATCH_QUERIES', DEFAULT_MAX_BATCH_QUERIES, 1, 256);
  const origin = publicOrigin(env);
  const allowInsecurePoolHttp = flag(env, 'ALLOW_INSECURE_POOL_HTTP', false);
  return {
    endpoints: endpoints(env, allowInsecurePoolHttp),
    allowInsecurePoolHttp,
    signingKey: env.POOL_SIGNING_KEY || undefined,
    apiKeys,
    publicMode: flag(env, 'PUBLIC_MODE', false),
    publicRate: env.PUBLIC_RATE ? json('PUBLIC_RATE', RateLimit, env.PUBLIC_RATE) : DEFAULT_PUBLIC_RATE,
    unknownClientRate: env.UNKNOWN_CLIENT_RATE ? json('UNKNOWN_CLIENT_RATE', RateLimit, env.UNKNOWN_CLIENT_RATE) : DEFAULT_UNKNOWN_CLIENT_RATE,
    publicIpv6PrefixBits: number(env, 'PUBLIC_IPV6_PREFIX', 64, 32, 128),
    defaultRate: env.DEFAULT_RATE ? json('DEFAULT_RATE', RateLimit, env.DEFAULT_RATE) : DEFAULT_RATE,
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    cacheTtlS: number(env, 'CACHE_TTL_S', 300, 0, 31_536_000),
    memoryCacheEntries: number(env, 'MEMORY_CACHE_ENTRIES', 1000, 0, 100_000),
    batchWindowMs: number(env, 'BATCH_WINDOW_MS', 2, 0, 1000, false),
    batchMaxQueries: number(env, 'BATCH_MAX_QUERIES', 32, 1, 256),
    maxBatchQueries,
    maxSearchBodyBytes: searchBodyLimit(),
    maxBatchBodyBytes: batchBodyLimit(maxBatchQueries),
    requestDeadlineMs: number(env, 'REQUEST_DEADLINE_MS', 5000, 10, 600_000),
    retryBaseMs: number(env, 'RETRY_BASE_MS', 20, 0, 10_000),
    breakerFailures: number(env, 'BREAKER_FAILURES', 3, 1, 1000),
    breakerCooldownMs: number(env, 'BREAKER_COOLDOWN_MS', 2000, 1, 600_000),
    maxVersionLeaseMs: number(env, 'MAX_VERSION_LEASE_MS', 5000, 0, 600_000),
    conversations: {
      ttlS: number(env, 'CONVERSATION_TTL_S', 86_400, 1, 30 * 86_400),
      // The history of a stored conversation is sent as a context: it must be one the API takes.
      maxTurns: number(env, 'CONVERSATION_MAX_TURNS', MAX_CONTEXT_TURNS, 1, MAX_CONTEXT_TURNS),
      maxTurnBytes: number(env, 'CONVERSATION_MAX_TURN_BYTES', 8192, 64, MAX_CONTEXT_CHARS),
      maxBytes: number(env, 'CONVERSATION_MAX_BYTES', MAX_CONTEXT_CHARS, 64, MAX_CONTEXT_CHARS),
    },
    ...(origin ? { publicOrigin: origin } : {}),
  };
}
