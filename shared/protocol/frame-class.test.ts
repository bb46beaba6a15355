import { describe, expect, it } from 'vitest';
import { FRAME_CLASSES, FRAME_CLASS_HEADER, FRAME_TYPES, SHEDDABLE_CLASSES, frameClassHeader, frameClassOf, validateFrame } from './index.ts';

describe('frame classes (the header a node reads before the body)', () => {
  it('names a class for every request frame, and only searches may be shed unread', () => {
    const requests = FRAME_TYPES.filter((t) => !t.endsWith('result') && t !== 'error');
    expect(Object.values(FRAME_CLASSES).flat().sort()).toEqual([...requests].sort());
    expect([...SHEDDABLE_CLASSES]).toEqual(['search']);
  });

  it('reads an absent header as a search, and knows no other values', () => {
    expect(frameClassOf(undefined)).toBe('search');
    expect(frameClassOf('lease')).toBe('lease');
    expect(frameClassOf('shard')).toBe('shard');
    for (const v of ['', 'LEASE', 'toString', '__proto__', 'search ']) expect(frameClassOf(v)).toBeUndefined();
  });

  it('gives senders the header of their frame: none for a search', () => {
    expect(frameClassHeader('search')).toEqual({});
    expect(frameClassHeader('lease')).toEqual({ [FRAME_CLASS_HEADER]: 'lease' });
    expect(frameClassHeader('shard-lease')).toEqual({ [FRAME_CLASS_HEADER]: 'shard' });
    expect(frameClassHeader('evidence')).toEqual({ [FRAME_CLASS_HEADER]: 'shard' });
  });
});

describe('lease frames', () => {
  it('need a promise in every answer (0: none) and refuse anything else', () => {
    expect(() => validateFrame({ v: 1, type: 'lease-result', batchId: 'b', indexVersion: 'v1' })).toThrow(/versionLeaseMs: required/);
    expect(() => validateFrame({ v: 1, type: 'shard-lease-result', batchId: 'b', shard: 0, version: 'v1', leaseMs: -1 })).toThrow(/leaseMs: must be at least 0/);
    expect(() => validateFrame({ v: 1, type: 'lease', batchId: 'b', deadline: 1, queries: [] })).toThrow(/queries: unknown key/);
    expect(validateFrame({ v: 1, type: 'lease', batchId: 'b', deadline: 1 }, { expect: ['lease'] })).toEqual({ v: 1, type: 'lease', batchId: 'b', deadline: 1 });
  });
});
