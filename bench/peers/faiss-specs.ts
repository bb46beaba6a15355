// The faiss indexes bench:peers builds once (with our binding) and searches from every faiss
// client: the same file, the same parameters. SciFact has 29k vectors: 256 lists is ~sqrt(n)x1.5.
export interface FaissSweep {
  nprobe?: number;
  efSearch?: number;
  kFactor?: number;
}

export interface FaissSpec {
  slug: string;
  name: string;
  factory: string;
  sweeps: FaissSweep[];
}

export const FAISS_SPECS: FaissSpec[] = [
  { slug: 'flat', name: 'Flat (exact)', factory: 'Flat', sweeps: [{}] },
  { slug: 'ivfpq', name: 'IVF-PQ', factory: 'IVF256,PQ128np', sweeps: [4, 8, 16, 32, 64, 128].map((nprobe) => ({ nprobe })) },
  { slug: 'opq', name: 'OPQ+IVF-PQ', factory: 'OPQ128,IVF256,PQ128np', sweeps: [16, 64].map((nprobe) => ({ nprobe })) },
  { slug: 'hnsw', name: 'HNSW', factory: 'HNSW32', sweeps: [16, 32, 64, 128, 256].map((efSearch) => ({ efSearch })) },
  { slug: 'hnswpq', name: 'HNSW-PQ', factory: 'HNSW32_PQ128np', sweeps: [64, 256].map((efSearch) => ({ efSearch })) },
  {
    slug: 'ivfpq-rflat',
    name: 'IVF-PQ + refine (float)',
    factory: 'IVF256,PQ128np,RFlat',
    sweeps: [
      { nprobe: 16, kFactor: 2 },
      { nprobe: 16, kFactor: 4 },
      { nprobe: 32, kFactor: 4 },
      { nprobe: 64, kFactor: 4 },
      { nprobe: 64, kFactor: 8 },
    ],
  },
  {
    slug: 'ivfpq-rsq8',
    name: 'IVF-PQ + refine (SQ8)',
    factory: 'IVF256,PQ128np,Refine(SQ8)',
    sweeps: [
      { nprobe: 32, kFactor: 4 },
      { nprobe: 64, kFactor: 4 },
    ],
  },
];

export const sweepLabel = (s: FaissSweep) =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '-';
