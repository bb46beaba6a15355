// Public surface of the optimize module: target-embedding optimization (Tan et al., AAAI 2026).
export { contrastiveLoss, DEFAULT_TEMPERATURE, type CandidateSet, type ContrastiveOptions } from './contrastive.ts';
export { Adam, type AdamOptions } from './adam.ts';
