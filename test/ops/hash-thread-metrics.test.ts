/**
 * A stop of the upload hash thread (a crash, its heap cap) costs its uploads a second read of their bytes at the
 * commit; `stowage_upload_hash_thread_stops_total` counts the stops so an operator sees them without reading logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadHashThread } from '../../src/registry/upload-hash.js';
import { startConfigured, tempFolder, type ConfiguredStowage } from './support.js';

const STOPS = 'stowage_upload_hash_thread_stops_total';

describe('the upload hash thread in the metrics', () => {
  let work: Awaited<ReturnType<typeof tempFolder>>;
  let stowage: ConfiguredStowage;
  const stops = async (): Promise<number | undefined> => {
    const text = await (await fetch(`${stowage.debugURL}/metrics`)).text();
    const line = text.split('\n').find((sample) => sample.startsWith(`${STOPS} `));
    return line === undefined ? undefined : Number(line.slice(STOPS.length + 1));
  };

  beforeAll(async () => {
    work = await tempFolder('hash-thread-metrics');
    stowage = await startConfigured(
      work.dir,
      ['log: { level: error }', 'http:', '  addr: 127.0.0.1:0', '  hashthread: true', '  debug:', '    addr: 127.0.0.1:0', '    prometheus: { enabled: true, path: /metrics }', 'storage:', '  filesystem: { rootdirectory: ./data }', ''].join('\n'),
    );
  });
  afterAll(async () => {
    await stowage?.close();
    await work?.remove();
  });

  it('counts each stop of a running thread', async () => {
    // `hashthread: true` starts the thread with the server
    expect(uploadHashThread.started).toBe(true);
    expect(await stops()).toBe(0);
    await uploadHashThread.terminate();
    expect(await stops()).toBe(1);
    // the next one started (as the next upload would) and stopped counts again
    uploadHashThread.start();
    await uploadHashThread.terminate();
    expect(await stops()).toBe(2);
  });
});
