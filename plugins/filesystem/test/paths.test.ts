import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriverContext } from '../../../src/testing/index.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriver } from '../src/index.js';

let root: string;
let driver: StorageDriver;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stowage-filesystem-paths-'));
  driver = await createDriver({ rootdirectory: root }, createDriverContext('filesystem'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** names of the storage grammar, with the dot names (`.`, `..`, `...`, `.x`, `x.`) drawn often */
const segment = fc.oneof(fc.constantFrom('.', '..', '...', '.x', 'x..', 'a'), fc.stringMatching(/^[A-Za-z0-9._-]{1,6}$/));

describe('filesystem: where a storage path lands', () => {
  it('a path is stored at the root joined with it, and a path with a `.` or `..` name is refused with INVALID_PATH', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 4 }), async (segments) => {
        const path = `/p${n++}/${segments.join('/')}`;
        const content = Buffer.from(path);
        const climbs = segments.some((name) => name === '.' || name === '..');
        const outcome = await driver.putContent(path, content).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (climbs) {
          expect((outcome as { code?: unknown }).code).toBe('INVALID_PATH');
          return;
        }
        expect(outcome).toBeUndefined();
        // the oracle: the file under the root, named as node's own path.join places it
        expect((await readFile(join(root, ...path.split('/').filter(Boolean)))).equals(content)).toBe(true);
        expect(Buffer.from(await driver.getContent(path)).equals(content)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
