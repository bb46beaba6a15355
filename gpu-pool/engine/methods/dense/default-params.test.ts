import { describe, expect, it } from 'vitest';
import { defaultSearchParams } from './default-params.ts';

describe('defaultSearchParams', () => {
  it('probes a quarter of the IVF lists, at least one', () => {
    expect(defaultSearchParams('IVF256,PQ128np')).toEqual({ nprobe: 64 });
    expect(defaultSearchParams('OPQ64,IVF1024,PQ64np')).toEqual({ nprobe: 256 });
    expect(defaultSearchParams('IVF2,Flat')).toEqual({ nprobe: 1 });
  });
  it('widens HNSW search, also for an HNSW coarse quantizer', () => {
    expect(defaultSearchParams('HNSW32_PQ128np')).toEqual({ efSearch: 64 });
    expect(defaultSearchParams('IVF1024_HNSW32,Flat')).toEqual({ nprobe: 256, efSearch: 64 });
  });
  it('leaves exact indexes alone', () => {
    expect(defaultSearchParams('Flat')).toEqual({});
  });
});
