/**
 * Where uploads are hashed when `http.hashthread` is left to `auto`: on the thread only while the machine has a
 * CPU more than the processes serving the API (src/registry/hash-thread-choice.ts); a boolean is obeyed.
 */
import { describe, expect, it } from 'vitest';
import { hashesOnThread, startUploadHashing } from '../../src/registry/hash-thread-choice.js';
import { HashThread } from '../../src/registry/upload-hash.js';

describe('hashesOnThread', () => {
  it('auto (or absent): a thread when there are more CPUs than processes serving', () => {
    for (const setting of ['auto', undefined] as const) {
      expect(hashesOnThread(setting, undefined, 2)).toBe(true);
      expect(hashesOnThread(setting, 1, 4)).toBe(true);
      expect(hashesOnThread(setting, 3, 4)).toBe(true);
      expect(hashesOnThread(setting, undefined, 1)).toBe(false);
      expect(hashesOnThread(setting, 2, 2)).toBe(false);
      expect(hashesOnThread(setting, 4, 2)).toBe(false);
      expect(hashesOnThread(setting, 'auto', 8)).toBe(false);
    }
  });

  it('true and false are obeyed whatever the machine', () => {
    expect(hashesOnThread(true, undefined, 1)).toBe(true);
    expect(hashesOnThread(true, 'auto', 8)).toBe(true);
    expect(hashesOnThread(false, undefined, 8)).toBe(false);
  });

  it('startUploadHashing starts the thread before any upload exactly when uploads will be hashed on it', async () => {
    for (const [setting, workers, cpus, starts] of [
      [true, undefined, 1, true],
      ['auto', undefined, 2, true],
      [undefined, 'auto', 4, false],
      [false, undefined, 8, false],
    ] as const) {
      const thread = new HashThread();
      expect(startUploadHashing(setting, workers, thread, cpus)).toBe(starts);
      expect(thread.started).toBe(starts);
      await thread.terminate();
    }
  });
});
