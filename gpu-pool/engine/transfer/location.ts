// Where an index version lives: s3://bucket/prefix, https://host/path, http:// on loopback only, file:///dir.
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TransferError } from './errors.ts';

export type Location =
  | { kind: 's3'; url: string; bucket: string; prefix: string }
  | { kind: 'http'; url: string; base: URL }
  | { kind: 'file'; url: string; dir: string };

/** 127.0.0.0/8, ::1, ::ffff:127.x and the name localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host) || /^(0{1,4}:){7}0{0,3}1$/.test(host);
  return false;
}

/** Splits a URL into its kind; refuses unknown schemes and plain http to anything but loopback. */
export function parseLocation(raw: string, opts: { purpose: 'pull' | 'push' }): Location {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TransferError(`not a URL: "${raw}" (expected s3://bucket/prefix, https://host/path or file:///dir)`);
  }
  const trimmed = (p: string) => p.replace(/^\/+|\/+$/g, '');
  switch (url.protocol) {
    case 's3:': {
      if (!url.hostname) throw new TransferError(`${raw}: no bucket (expected s3://bucket/prefix)`);
      return { kind: 's3', url: raw, bucket: url.hostname, prefix: trimmed(decodeURIComponent(url.pathname)) };
    }
    case 'https:':
    case 'http:': {
      if (opts.purpose === 'push') throw new TransferError(`${raw}: push goes to s3:// or file:// (HTTP(S) is for pull, from a static file server)`);
      if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
        throw new TransferError(`${raw}: plain http:// is allowed only to a loopback host (127.0.0.1, ::1, localhost); use https:// (files arrive unencrypted and unauthenticated over http)`);
      }
      if (url.search || url.hash) throw new TransferError(`${raw}: no query string or fragment expected`);
      const base = new URL(url.href.endsWith('/') ? url.href : `${url.href}/`);
      return { kind: 'http', url: raw, base };
    }
    case 'file:': {
      return { kind: 'file', url: raw, dir: resolve(fileURLToPath(url)) };
    }
    default:
      throw new TransferError(`${raw}: unknown scheme "${url.protocol.replace(/:$/, '')}" (expected s3://, https://, http:// on loopback, or file://)`);
  }
}

/** The last path segment: a pulled URL names the index version it expects. */
export function lastSegment(loc: Location): string {
  const path = loc.kind === 's3' ? loc.prefix : loc.kind === 'http' ? decodeURIComponent(loc.base.pathname) : loc.dir;
  const parts = path.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? '';
}
