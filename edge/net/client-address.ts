// The rate-limit bucket of a keyless (public-mode) caller, from its address. IPv4 addresses
// bucket whole; IPv6 addresses by their first `ipv6PrefixBits` bits (a /64 by default), since
// one subscriber usually holds a whole /64 and could otherwise take a fresh bucket per
// request by rotating the interface id. IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address.

/** A parsed address: 4 bytes (IPv4) or 16 (IPv6). */
export type IpBytes = { version: 4; bytes: Uint8Array } | { version: 6; bytes: Uint8Array };

const IPV4_PART = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!IPV4_PART.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    bytes[i] = n;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): string[] => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  // A dotted IPv4 tail stands for the last two groups.
  const words: number[][] = [[], []];
  for (const [side, list] of [head, tail].entries()) {
    for (const [i, g] of list.entries()) {
      const last = side === (halves.length === 2 ? 1 : 0) && i === list.length - 1;
      if (last && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return undefined;
        words[side].push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (HEX_GROUP.test(g)) {
        words[side].push(parseInt(g, 16));
      } else {
        return undefined;
      }
    }
  }
  const count = words[0].length + words[1].length;
  // "::" stands for at least one zero group; without it there must be exactly eight.
  if (halves.length === 2 ? count > 7 : count !== 8) return undefined;
  const all = [...words[0], ...Array<number>(8 - count).fill(0), ...words[1]];
  const bytes = new Uint8Array(16);
  all.forEach((w, i) => {
    bytes[i * 2] = w >> 8;
    bytes[i * 2 + 1] = w & 0xff;
  });
  return bytes;
}

/** Parses an IPv4 or IPv6 address (no brackets, ports or zone ids); undefined when it is none. */
export function parseIp(text: string): IpBytes | undefined {
  const t = text.trim();
  if (t.includes(':')) {
    const bytes = parseIpv6(t);
    if (!bytes) return undefined;
    // ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket.
    if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return { version: 4, bytes: bytes.slice(12) };
    return { version: 6, bytes };
  }
  const bytes = parseIpv4(t);
  return bytes ? { version: 4, bytes } : undefined;
}

/** Whether `host` (a URL's hostname: brackets allowed) is loopback: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const ip = parseIp(h);
  if (!ip) return false;
  if (ip.version === 4) return ip.bytes[0] === 127;
  return ip.bytes.subarray(0, 15).every((b) => b === 0) && ip.bytes[15] === 1;
}

/**
 * The bucket name of a client address: `ip4:a.b.c.d`, or `ip6:<hex of the prefix>/<bits>`;
 * undefined for a missing or unreadable address (the caller decides what such a client gets).
 */
export function clientBucket(address: string | undefined, ipv6PrefixBits: number): string | undefined {
  if (address === undefined) return undefined;
  const ip = parseIp(address);
  if (!ip) return undefined;
  if (ip.version === 4) return `ip4:${ip.bytes.join('.')}`;
  const masked = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, ipv6PrefixBits - i * 8));
    masked[i] = ip.bytes[i] & ((0xff << (8 - bits)) & 0xff);
  }
  let hex = '';
  for (const b of masked.subarray(0, Math.ceil(ipv6PrefixBits / 8))) hex += b.toString(16).padStart(2, '0');
  return `ip6:${hex}/${ipv6PrefixBits}`;
}
