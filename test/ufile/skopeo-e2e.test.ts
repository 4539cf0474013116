/** The skopeo end-to-end suite against stowage on the ufile driver, over the UFile emulator (small BlkSize, redirects on). */
import { describe, expect, it } from 'vitest';
import { createDriverContext } from '../../src/testing/index.js';
import { createDriver } from '../../plugins/ufile/src/index.js';
import { describeSkopeoE2E } from '../support/skopeo-e2e.js';
import { startStowageOwningDriver } from '../support/stowage.js';
import { startUFileEmulator, type UFileEmulator } from './emulator.js';

let emulator: UFileEmulator | undefined;

describeSkopeoE2E('ufile (UFile emulator, 256 KiB BlkSize)', async () => {
  emulator = await startUFileEmulator({ buckets: ['stowage'], blkSize: 256 * 1024 });
  const driver = await createDriver(
    { baseurl: emulator.url, bucket: 'stowage', publickey: emulator.publicKey, privatekey: emulator.privateKey, rootdirectory: 'registry' },
    createDriverContext('ufile'),
  );
  return startStowageOwningDriver(driver, { alsoClose: [emulator] });
});

describe('what the skopeo run did on the emulated service', () => {
  // Layers here are under UFile's usual 4 MiB block, so each is one PUT; multipart shows in resumable-e2e.test.ts.
  it('served blobs through presigned redirects and left no upload or upload state behind', () => {
    const requests = emulator?.requests ?? [];
    expect(requests.filter((r) => r.method === 'GET' && r.url.includes('Signature=') && r.status === 200).length).toBeGreaterThan(0);
    expect(emulator?.openUploads()).toBe(0);
    expect([...(emulator?.bucket('stowage').keys() ?? [])].filter((key) => key.includes('~'))).toEqual([]);
  });
});

let faulty: UFileEmulator | undefined;

// Every 6th request of the driver answers 503, every 11th loses its connection, every 17th stalls past the
// 1 s timeout; each request is hit at most once per rule, so the retries must carry every one through.
describeSkopeoE2E('ufile under injected faults (503s, dropped connections, stalls past the timeout)', async () => {
  faulty = await startUFileEmulator({ buckets: ['stowage'], blkSize: 256 * 1024 });
  const unlessPresigned = { unless: 'Signature=', oncePerRequest: true, times: 100_000 };
  faulty.faults.add({ status: 503, every: 6, ...unlessPresigned }, { reset: true, every: 11, ...unlessPresigned }, { delayMs: 2500, every: 17, ...unlessPresigned });
  const driver = await createDriver(
    {
      baseurl: faulty.url, bucket: 'stowage', publickey: faulty.publicKey, privatekey: faulty.privateKey,
      retries: 4, retryinterval: 0.02, timeout: 1,
    },
    createDriverContext('ufile'),
  );
  return startStowageOwningDriver(driver, { alsoClose: [faulty] });
});

describe('the faults the ufile run went through', () => {
  it('included 503s, dropped connections and stalls, all retried', () => {
    const requests = faulty?.requests ?? [];
    expect(requests.filter((r) => r.status === 503).length).toBeGreaterThan(3);
    expect(requests.filter((r) => r.status === 0).length).toBeGreaterThan(1);
  });
});
