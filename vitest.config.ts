import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The faiss addon and onnxruntime are native; separate processes keep their threads apart.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '**/*.partial/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
