/**
 * Runs the swift and s3 suites alone with one Swift all-in-one for all of them:
 *   npx vitest run --config test/swift/vitest.config.ts
 * (the project's own config runs them too; each file then takes its own lease on the shared Swift).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import project from '../../vitest.config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default defineConfig({
  ...project,
  root,
  test: {
    ...project.test,
    include: ['test/swift/**/*.test.ts'],
    globalSetup: [path.join(root, 'test/swift/global-setup.ts')],
  },
});
