/**
 * stowage as its own process on the alioss driver streams a large blob through the OSS emulator (in this
 * test's process) with its resident memory bounded: the writer holds at most one part (10 MiB here).
 */
import { afterAll, beforeAll } from 'vitest';
import { describeStreamingMemory } from '../support/memory-e2e.js';
import { startOssEmulator, type OssEmulator } from './emulator.js';
import { ossDriverLines, startStowageProcessOn } from './stowage-process.js';

const MiB = 1024 * 1024;
let emulator: OssEmulator;
beforeAll(async () => { emulator = await startOssEmulator({ buckets: ['stowage'] }); });
afterAll(async () => { await emulator?.close(); });

describeStreamingMemory('stowage as its own process on alioss (OSS emulator, 10 MiB parts)', () =>
  startStowageProcessOn(ossDriverLines(emulator, 'stowage')), 160 * MiB, 64 * MiB);
