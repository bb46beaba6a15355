import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const clientSource = fileURLToPath(new URL('./packages/client/src/', import.meta.url));

export default defineConfig({
  resolve: {
    // In this repository the client package is used from its source (tsconfig.json's paths say
    // the same to tsc and tsx); only the npm pack test installs the built package.
    alias: [
      { find: /^@edgesearch\/client$/, replacement: `${clientSource}index.ts` },
      { find: /^@edgesearch\/client\/(.+)$/, replacement: `${clientSource}$1/index.ts` },
    ],
  },
  test: {
    // The faiss addon and onnxruntime are native; separate processes keep their threads apart.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '**/*.partial/**', 'packages/*/dist/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
