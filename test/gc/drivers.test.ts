/** The garbage collector on every driver that runs here without Swift: inmemory, filesystem, and the alioss, ufile and elliptics emulators. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { createDriver as createAliossDriver } from '../../plugins/alioss/src/index.js';
import { createDriver as createUfileDriver } from '../../plugins/ufile/src/index.js';
import { createDriverContext } from '../../src/testing/index.js';
import { startEmulatedDriver } from '../elliptics/context.js';
import { startOssEmulator } from '../oss/emulator.js';
import { createFilesystemDriver, createInMemoryDriver } from '../support/index.js';
import { startUFileEmulator } from '../ufile/emulator.js';
import { describeGcOnDriver } from './driver-matrix.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describeGcOnDriver('inmemory', () => createInMemoryDriver());

describeGcOnDriver('filesystem', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-gc-matrix-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  return createFilesystemDriver(root);
});

describeGcOnDriver('alioss (OSS emulator)', async () => {
  const emulator = await startOssEmulator({ buckets: ['stowage'] });
  cleanups.push(() => emulator.close());
  return createAliossDriver(
    {
      accesskeyid: emulator.accessKeyId, accesskeysecret: emulator.accessKeySecret, bucket: 'stowage', region: `oss-${emulator.region}`,
      endpoint: `localhost:${emulator.port}`, secure: false, rootdirectory: '/registry',
    },
    createDriverContext('alioss'),
  );
});

describeGcOnDriver('ufile (UFile emulator)', async () => {
  const emulator = await startUFileEmulator({ buckets: ['stowage'] });
  cleanups.push(() => emulator.close());
  return createUfileDriver(
    { baseurl: emulator.url, bucket: 'stowage', publickey: emulator.publicKey, privatekey: emulator.privateKey, rootdirectory: 'registry' },
    createDriverContext('ufile'),
  );
});

describeGcOnDriver('elliptics (emulated cluster)', async () => (await startEmulatedDriver()).driver);
