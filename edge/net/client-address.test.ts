import { describe, expect, it } from 'vitest';
import { clientBucket, isLoopbackHost, parseIp } from './client-address.ts';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('parseIp', () => {
  it('reads IPv4 dotted quads strictly', () => {
    expect(parseIp('198.51.100.7')).toEqual({ version: 4, bytes: new Uint8Array([198, 51, 100, 7]) });
    for (const bad of ['198.51.100', '198.51.100.256', '198.051.100.7', '1.2.3.4.5', '1.2.3.-4', '1.2.3.4 x', '', 'unknown', '0x7f.0.0.1']) expect(parseIp(bad), bad).toBeUndefined();
  });

  it('reads IPv6 in every spelling, with :: compression and an IPv4 tail', () => {
    const full = '20010db8000100020000000000000001';
    for (const s of ['2001:db8:1:2::1', '2001:0db8:0001:0002:0000:0000:0000:0001', '2001:DB8:1:2:0:0:0:1', '2001:db8:1:2:0::1', ' 2001:db8:1:2::0.0.0.1 ']) {
      const ip = parseIp(s);
      expect(ip?.version, s).toBe(6);
      expect(hex(ip!.bytes), s).toBe(full);
    }
    expect(hex(parseIp('::')!.bytes)).toBe('0'.repeat(32));
    expect(hex(parseIp('::1')!.bytes)).toBe(`${'0'.repeat(31)}1`);
    expect(hex(parseIp('fe80::')!.bytes)).toBe(`fe80${'0'.repeat(28)}`);
    expect(hex(parseIp('64:ff9b::192.0.2.33')!.bytes)).toBe('0064ff9b0000000000000000c0000221');
    for (const bad of ['2001:db8::1::2', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::', '12345::', 'g::1', ':1:2:3:4:5:6:7', '::1.2.3', '1.2.3.4::', 'fe80::1%eth0', '[::1]', '::ffff:1.2.3.4:5']) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });

  it('turns IPv4-mapped IPv6 into the IPv4 address', () => {
    expect(parseIp('::ffff:198.51.100.7')).toEqual({ version: 4, bytes: new Uint8Array([198, 51, 100, 7]) });
    expect(parseIp('::ffff:c633:6407')).toEqual({ version: 4, bytes: new Uint8Array([198, 51, 100, 7]) });
    expect(parseIp('::198.51.100.7')?.version).toBe(6); // IPv4-compatible (deprecated), not mapped
  });
});

describe('clientBucket', () => {
  it('buckets IPv6 by prefix, so a rotated interface id keeps the bucket', () => {
    const b = (ip: string, bits = 64) => clientBucket(ip, bits);
    expect(b('2001:db8:1:2::1')).toBe('ip6:20010db800010002/64');
    expect(b('2001:db8:1:2:ffff:eeee:dddd:cccc')).toBe(b('2001:db8:1:2::1'));
    expect(b('2001:0DB8:0001:0002:1234::')).toBe(b('2001:db8:1:2::1'));
    expect(b('2001:db8:1:3::1')).not.toBe(b('2001:db8:1:2::1'));
    expect(b('2001:db8:1:2::1', 48)).toBe(b('2001:db8:1:3::1', 48));
    expect(b('2001:db8:1:2::1', 56)).toBe('ip6:20010db8000100/56');
    expect(b('2001:db8:1:2ff::1', 56)).toBe(b('2001:db8:1:200::1', 56));
    expect(b('2001:db8:1:2ff::1', 60)).not.toBe(b('2001:db8:1:200::1', 60));
    expect(b('2001:db8:1:2::1', 128)).not.toBe(b('2001:db8:1:2::2', 128));
  });

  it('buckets IPv4 by the whole address, mapped or not', () => {
    expect(clientBucket('198.51.100.7', 64)).toBe('ip4:198.51.100.7');
    expect(clientBucket('::ffff:198.51.100.7', 64)).toBe('ip4:198.51.100.7');
    expect(clientBucket('198.51.100.8', 64)).not.toBe('ip4:198.51.100.7');
  });

  it('has no bucket for a missing or unreadable address', () => {
    expect(clientBucket(undefined, 64)).toBeUndefined();
    expect(clientBucket('', 64)).toBeUndefined();
    expect(clientBucket('unknown', 64)).toBeUndefined();
  });
});

describe('isLoopbackHost', () => {
  it('knows localhost, 127.0.0.0/8 and ::1', () => {
    for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '[::1]', '::1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['pool.example', '10.0.0.1', '128.0.0.1', '[::2]', '[2001:db8::1]', 'localhost.example', '127.0.0.1.nip.io', '0.0.0.0']) expect(isLoopbackHost(h), h).toBe(false);
  });
});
