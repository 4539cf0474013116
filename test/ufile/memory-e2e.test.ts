/**
 * stowage as its own process on the ufile driver streams a large blob through the UFile emulator (in this
 * test's process) with its resident memory bounded: the writer holds at most one 4 MiB block, and the
 * move to the blob's address streams through a new multipart upload.
 */
import { afterAll, beforeAll } from 'vitest';
import { describeStreamingMemory } from '../support/memory-e2e.js';
import { startStowageProcessOn } from '../oss/stowage-process.js';
import { startUFileEmulator, type UFileEmulator } from './emulator.js';

const MiB = 1024 * 1024;
let emulator: UFileEmulator;
beforeAll(async () => { emulator = await startUFileEmulator({ buckets: ['stowage'] }); });
afterAll(async () => { await emulator?.close(); });

describeStreamingMemory('stowage as its own process on ufile (UFile emulator, 4 MiB BlkSize)', () =>
  startStowageProcessOn([
    '  ufile:',
    `    baseurl: ${emulator.url}`,
    '    bucket: stowage',
    `    publickey: ${emulator.publicKey}`,
    `    privatekey: ${emulator.privateKey}`,
  ]), 160 * MiB, 64 * MiB);
