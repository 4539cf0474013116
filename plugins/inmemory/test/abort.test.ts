import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriverContext } from '../../../src/testing/index.js';
import { createDriver } from '../src/index.js';

describe('the inmemory driver and an aborted signal', () => {
  it("destroys a reader's stream mid-object", async () => {
    const driver = createDriver({}, createDriverContext('inmemory')) as StorageDriver;
    await driver.putContent('/big', Buffer.alloc(1024 * 1024, 7));
    const client = new AbortController();
    const stream = await driver.reader('/big', 0, client.signal);
    const failed = once(stream, 'error');
    await once(stream, 'readable');
    client.abort();
    const [err] = (await failed) as [Error];
    expect(err.name).toBe('AbortError');
    expect(stream.destroyed).toBe(true);
  });
});
