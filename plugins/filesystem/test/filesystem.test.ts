import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createDriverContext, runDriverConformance } from '../../../src/testing/index.js';
import { createDriver } from '../src/index.js';

const root = mkdtempSync(join(tmpdir(), 'stowage-filesystem-kit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

runDriverConformance({
  name: 'filesystem',
  create: () => createDriver({ rootdirectory: join(root, 'registry') }, createDriverContext('filesystem')),
  // a second instance on the same folder, as a second process has
  createPeer: () => createDriver({ rootdirectory: join(root, 'registry') }, createDriverContext('filesystem')),
});
