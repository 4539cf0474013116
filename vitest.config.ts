import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      // Tests import the plugins from src/; the kit they share should be its src/ too, not a dist/ a
      // forgotten rebuild left stale (outside vitest the name resolves to node_modules -> packages/backend-kit/dist).
      // the subpath first: an alias also matches the names under it
      '@stowage/backend-kit/claim-lease': fileURLToPath(new URL('./packages/backend-kit/src/claim-lease.ts', import.meta.url)),
      '@stowage/backend-kit': fileURLToPath(new URL('./packages/backend-kit/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts', 'plugins/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
  },
});
