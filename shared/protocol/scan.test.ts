import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, MAX_KEY_BYTES, MAX_MAP_ENTRIES, ScanError, scanMsgpack } from './scan.ts';

const bytes = (...xs: number[]) => new Uint8Array(xs);
const ok = (b: Uint8Array) => expect(() => scanMsgpack(b)).not.toThrow();
const bad = (b: Uint8Array, message: RegExp) => expect(() => scanMsgpack(b)).toThrow(message);

describe('scanMsgpack', () => {
  it('accepts every non-extension msgpack type', () => {
    const packr = new Packr({ useRecords: false, variableMapSize: true });
    ok(packr.pack({ a: [1, -1, 200, -200, 70000, -70000, 2 ** 40, -(2 ** 40), 1.5, null, true, false, '', 'x'.repeat(40), 'y'.repeat(300), 'z'.repeat(70000)] }));
    ok(packr.pack({ b: new Uint8Array(10), c: new Uint8Array(300), d: new Uint8Array(70000), e: Array.from({ length: 70000 }, () => 0) }));
    ok(bytes(0xca, 0, 0, 0, 0)); // float32
    ok(bytes(0xcf, 0, 0, 0, 0, 0, 0, 0, 1)); // uint64
    ok(bytes(0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)); // int64
    ok(bytes(0xdf, 0, 0, 0, 1, 0xa1, 0x61, 0xc0)); // map32 with one entry
    ok(bytes(0xdd, 0, 0, 0, 0)); // empty array32
  });

  it('accepts str8, str16 and str32 keys (other encoders use them)', () => {
    ok(bytes(0x81, 0xd9, 1, 0x61, 0x01));
    ok(bytes(0x81, 0xda, 0, 1, 0x61, 0x01));
    ok(bytes(0x81, 0xdb, 0, 0, 0, 1, 0x61, 0x01));
  });

  it('refuses extension types, including fixext "undefined"', () => {
    for (const t of [0xd4, 0xd5, 0xd6, 0xd7, 0xd8]) bad(bytes(t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), /extension types/);
    bad(bytes(0xc7, 1, 0x74, 0), /extension types/);
    bad(bytes(0xc8, 0, 1, 0x74, 0), /extension types/);
    bad(bytes(0xc9, 0, 0, 0, 1, 0x74, 0), /extension types/);
  });

  it('refuses the reserved byte 0xc1', () => bad(bytes(0x91, 0xc1), /invalid msgpack byte 0xc1/));

  it('refuses truncation inside any header or payload', () => {
    for (const b of [[0xcc], [0xcd, 0], [0xce, 0, 0, 0], [0xcb, 0, 0, 0, 0, 0, 0, 0], [0xd9], [0xd9, 2, 0x61], [0xda, 0], [0xdb, 0, 0, 0], [0xc4, 1], [0xdc, 0], [0xdd, 0, 0], [0x92, 0x01], [0x81, 0xa1, 0x61], [0xa3, 0x61]]) {
      expect(() => scanMsgpack(new Uint8Array(b)), JSON.stringify(b)).toThrow(ScanError);
    }
  });

  it('refuses counts the remaining bytes cannot hold', () => {
    bad(bytes(0xdc, 0, 3, 1, 2), /array declares 3 entries but only 2 bytes remain/);
    bad(bytes(0x82, 0xa1, 0x61, 0x01), /map declares 2 entries but only 3 bytes remain/);
  });

  it('bounds depth, map size and key length', () => {
    ok(new Uint8Array([...new Array(MAX_DEPTH).fill(0x91), 0xc0]));
    bad(new Uint8Array([...new Array(MAX_DEPTH + 1).fill(0x91), 0xc0]), /nesting deeper/);
    // Empty containers do not count towards depth: nothing is left open.
    ok(new Uint8Array([...new Array(MAX_DEPTH).fill(0x91), 0x90]));
    const map = (n: number) => new Uint8Array([0xde, 0, n, ...Array.from({ length: n }, (_, i) => [0xa2, 0x6b, 0x41 + i, 0xc0]).flat()]);
    ok(map(MAX_MAP_ENTRIES));
    bad(map(MAX_MAP_ENTRIES + 1), /map with 33 entries/);
    ok(new Uint8Array([0x81, 0xd9, MAX_KEY_BYTES, ...new Array(MAX_KEY_BYTES).fill(0x61), 0xc0]));
    bad(new Uint8Array([0x81, 0xd9, MAX_KEY_BYTES + 1, ...new Array(MAX_KEY_BYTES + 1).fill(0x61), 0xc0]), /map key of 65 bytes/);
  });

  it('refuses non-string keys and the __proto__ key', () => {
    bad(bytes(0x81, 0x01, 0x01), /keys must be strings/);
    bad(bytes(0x81, 0xc4, 1, 0x61, 0x01), /keys must be strings/);
    bad(new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode('__proto__'), 0x80]), /"__proto__" is not allowed/);
    ok(new Uint8Array([0x81, 0xa8, ...new TextEncoder().encode('__proto_'), 0x80]));
  });

  it('refuses trailing bytes and empty input', () => {
    bad(bytes(0xc0, 0xc0), /1 trailing bytes/);
    bad(bytes(), /unexpected end of data/);
  });
});
