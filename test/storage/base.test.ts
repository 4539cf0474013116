import { describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/inmemory/src/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { FileInfo, StorageDriver } from '../../src/storage/driver.js';
import { StorageError, driverErrors } from '../../src/storage/errors.js';
import { createDriverContext } from '../../src/testing/index.js';

const inmemory = (): StorageDriver => createDriver({}, createDriverContext('inmemory')) as StorageDriver;

/** A driver whose every call fails the way a careless backend client would. */
function failingDriver(failure: unknown): StorageDriver {
  const fail = async (): Promise<never> => {
    throw failure;
  };
  return { name: 'flaky', getContent: fail, putContent: fail, reader: fail, writer: fail, uploadSize: fail, stat: fail, list: fail, move: fail, delete: fail };
}

describe('wrapDriver', () => {
  it('rejects an invalid path with INVALID_PATH naming the driver, before the driver sees it', async () => {
    const driver = wrapDriver(failingDriver(new Error('the driver must not be called')));
    for (const path of ['', 'abc', '//x', '/a/', '/a b']) {
      await expect(driver.getContent(path)).rejects.toMatchObject({ code: 'INVALID_PATH', message: expect.stringContaining('flaky') });
    }
    await expect(driver.putContent('/', new Uint8Array())).rejects.toMatchObject({ code: 'INVALID_PATH' });
    await expect(driver.move('/a', 'b')).rejects.toMatchObject({ code: 'INVALID_PATH' });
  });

  it('gives a driver without putContents one that puts each object in the order given, and refuses a path given twice', async () => {
    const inner = inmemory();
    const order: string[] = [];
    const recording = Object.assign(Object.create(inner) as StorageDriver, {
      putContent: async (path: string, content: Uint8Array) => {
        order.push(path);
        await inner.putContent(path, content);
      },
    });
    expect(recording.putContents).toBeUndefined();
    const driver = wrapDriver(recording);
    await driver.putContents!([{ path: '/b', content: Buffer.from('1') }, { path: '/a/c', content: Buffer.from('2') }]);
    expect(order).toEqual(['/b', '/a/c']);
    expect(Buffer.from(await driver.getContent('/a/c')).toString()).toBe('2');
    await expect(driver.putContents!([{ path: '/x', content: new Uint8Array() }, { path: '/x', content: new Uint8Array() }])).rejects.toMatchObject({ code: 'INVALID_PATH' });
    await expect(driver.putContents!([{ path: 'x', content: new Uint8Array() }])).rejects.toMatchObject({ code: 'INVALID_PATH' });
    expect(order).toEqual(['/b', '/a/c']);
  });

  it('accepts the root only where a directory is asked for', async () => {
    const driver = wrapDriver(inmemory());
    await expect(driver.list('/')).resolves.toEqual([]);
    await expect(driver.delete('/')).rejects.toMatchObject({ code: 'INVALID_PATH' });
    await expect(driver.walk!('/', () => undefined)).resolves.toBeUndefined();
  });

  it('rejects a negative or fractional offset with INVALID_OFFSET', async () => {
    const driver = wrapDriver(failingDriver(new Error('the driver must not be called')));
    await expect(driver.reader('/a', -1)).rejects.toMatchObject({ code: 'INVALID_OFFSET', details: { driver: 'flaky', offset: -1 } });
    await expect(driver.reader('/a', 1.5)).rejects.toMatchObject({ code: 'INVALID_OFFSET' });
  });

  it('turns an unknown error into STORAGE_FAILED that names the driver, operation and path and keeps the cause', async () => {
    const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const err = await wrapDriver(failingDriver(cause)).stat('/repo/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'STORAGE_FAILED', details: { driver: 'flaky', operation: 'stat', path: '/repo/x' }, cause });
    expect((err as Error).message).toBe('flaky: stat /repo/x failed: socket hang up');
  });

  it('stamps the driver name into a storage error built without it, keeping its code', async () => {
    const bare = driverErrors('elsewhere').pathNotFound('/x');
    const err = await wrapDriver(failingDriver(bare)).getContent('/x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PATH_NOT_FOUND', details: { driver: 'flaky', path: '/x' }, cause: bare });
    expect((err as Error).message).toContain('flaky');
  });

  it('passes a storage error that already names the driver through unchanged', async () => {
    const own = driverErrors('flaky').pathNotFound('/x');
    await expect(wrapDriver(failingDriver(own)).getContent('/x')).rejects.toBe(own);
  });

  it('normalises errors raised by a writer', async () => {
    const driver = wrapDriver({
      ...failingDriver(new Error('unused')),
      writer: async () => ({
        size: 0,
        write: async () => {
          throw new Error('disk full');
        },
        close: async () => {},
        cancel: async () => {},
        commit: async () => {},
      }),
    });
    const writer = await driver.writer('/up/data', false);
    await expect(writer.write(new Uint8Array(1))).rejects.toMatchObject({ code: 'STORAGE_FAILED', details: { operation: 'write', path: '/up/data' } });
  });

  it('answers undefined for redirectURL when the driver has none', async () => {
    const driver = wrapDriver(inmemory());
    await driver.putContent('/a', new Uint8Array([1]));
    await expect(driver.redirectURL!('/a', { method: 'GET' })).resolves.toBeUndefined();
  });

  it("uses the driver's own walk when it has one", async () => {
    const seen: string[] = [];
    const own: StorageDriver = {
      ...inmemory(),
      name: 'walker',
      walk: async (path, fn) => {
        seen.push(path);
        await fn({ path: '/own', size: 0, isDir: false, modTime: new Date(0) });
      },
    };
    const reported: FileInfo[] = [];
    await wrapDriver(own).walk!('/', (info) => void reported.push(info));
    expect(seen).toEqual(['/']);
    expect(reported.map((info) => info.path)).toEqual(['/own']);
  });

  it("passes an error thrown by the walk callback through a driver's own walk unchanged", async () => {
    const own: StorageDriver = {
      ...inmemory(),
      name: 'walker',
      walk: async (_path, fn) => void (await fn({ path: '/own', size: 0, isDir: false, modTime: new Date(0) })),
    };
    const mine = new Error('stop here, my way');
    await expect(
      wrapDriver(own).walk!('/', () => {
        throw mine;
      }),
    ).rejects.toBe(mine);
  });

  it("stamps an error of the driver's own walk as STORAGE_FAILED", async () => {
    const own: StorageDriver = { ...inmemory(), name: 'walker', walk: async () => Promise.reject(new Error('listing timed out')) };
    await expect(wrapDriver(own).walk!('/', () => undefined)).rejects.toMatchObject({ code: 'STORAGE_FAILED', details: { driver: 'walker', operation: 'walk' } });
  });

  it('wraps a driver only once', () => {
    const once = wrapDriver(inmemory());
    expect(wrapDriver(once)).toBe(once);
  });

  it('does not call the driver once the signal has aborted, and lets the abort through unstamped', async () => {
    const driver = wrapDriver(failingDriver(new Error('the driver must not be called')));
    const controller = new AbortController();
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(driver.getContent('/a', controller.signal)).rejects.toBe(reason);
    await expect(driver.uploadSize('/a', controller.signal)).rejects.toBe(reason);
    await expect(driver.writer('/a', true, controller.signal)).rejects.toBe(reason);
  });

  it('passes an abort raised by the driver through as the abort, not as STORAGE_FAILED', async () => {
    const controller = new AbortController();
    const driver = wrapDriver(
      failingDriver(
        Object.assign(new Error('The operation was aborted'), {
          name: 'AbortError',
        }),
      ),
    );
    const during = driver.list('/', controller.signal);
    controller.abort();
    await expect(during).rejects.toMatchObject({ name: 'AbortError' });
    await expect(during).rejects.not.toMatchObject({ code: 'STORAGE_FAILED' });
  });

  it('hands the signal to the driver with every call', async () => {
    const seen: (AbortSignal | undefined)[] = [];
    const store = inmemory();
    const recording: StorageDriver = {
      ...store,
      name: 'inmemory',
      getContent: store.getContent.bind(store),
      putContent: (path, content, signal) => (seen.push(signal), store.putContent(path, content)),
      stat: (path, signal) => (seen.push(signal), store.stat(path)),
    };
    const { signal } = new AbortController();
    const driver = wrapDriver(recording);
    await driver.putContent('/x', new Uint8Array([1]), signal);
    await driver.stat('/x', signal);
    expect(seen).toEqual([signal, signal]);
  });
});
