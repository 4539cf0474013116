/** The skopeo end-to-end suite against stowage on the alioss driver, over the OSS emulator (V4 signing, redirects on). */
import { describe, expect, it } from 'vitest';
import { createDriverContext } from '../../src/testing/index.js';
import { createDriver } from '../../plugins/alioss/src/index.js';
import { describeSkopeoE2E } from '../support/skopeo-e2e.js';
import { startStowageOwningDriver } from '../support/stowage.js';
import { startOssEmulator, type OssEmulator } from './emulator.js';

let emulator: OssEmulator | undefined;

describeSkopeoE2E('alioss (OSS emulator, signature V4, 100 KiB parts)', async () => {
  emulator = await startOssEmulator({ buckets: ['stowage'] });
  const driver = await createDriver(
    {
      accesskeyid: emulator.accessKeyId, accesskeysecret: emulator.accessKeySecret, bucket: 'stowage', region: `oss-${emulator.region}`,
      endpoint: `localhost:${emulator.port}`, secure: false, signatureversion: 'v4', chunksize: 100 * 1024, rootdirectory: '/registry',
    },
    createDriverContext('alioss'),
  );
  return startStowageOwningDriver(driver, { alsoClose: [emulator] });
});

describe('what the skopeo run did on the emulated service', () => {
  it('uploaded the larger layers as multipart uploads, served blobs through presigned redirects, and left no upload or upload state behind', () => {
    const requests = emulator?.requests ?? [];
    expect(requests.filter((r) => r.method === 'POST' && r.url.includes('?uploads')).length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.method === 'GET' && r.url.includes('x-oss-signature=') && r.status === 200).length).toBeGreaterThan(0);
    expect(emulator?.openUploads()).toBe(0);
    expect([...(emulator?.bucket('stowage').keys() ?? [])].filter((key) => key.includes('~'))).toEqual([]);
  });
});

let faulty: OssEmulator | undefined;

// Every 6th request of the driver answers 503, every 11th loses its connection, every 17th stalls past the
// 1 s timeout; each request is hit at most once per rule, so the retries must carry every one through.
describeSkopeoE2E('alioss under injected faults (503s, dropped connections, stalls past the timeout)', async () => {
  faulty = await startOssEmulator({ buckets: ['stowage'] });
  const unlessPresigned = { unless: 'ignature=', oncePerRequest: true, times: 100_000 };
  faulty.faults.add({ status: 503, every: 6, ...unlessPresigned }, { reset: true, every: 11, ...unlessPresigned }, { delayMs: 2500, every: 17, ...unlessPresigned });
  const driver = await createDriver(
    {
      accesskeyid: faulty.accessKeyId, accesskeysecret: faulty.accessKeySecret, bucket: 'stowage', region: `oss-${faulty.region}`,
      endpoint: `localhost:${faulty.port}`, secure: false, chunksize: 100 * 1024, retries: 4, retryinterval: 0.02, timeout: 1,
    },
    createDriverContext('alioss'),
  );
  return startStowageOwningDriver(driver, { alsoClose: [faulty] });
});

describe('the faults the alioss run went through', () => {
  it('included 503s, dropped connections and stalls, all retried', () => {
    const requests = faulty?.requests ?? [];
    expect(requests.filter((r) => r.status === 503).length).toBeGreaterThan(3);
    expect(requests.filter((r) => r.status === 0).length).toBeGreaterThan(1);
  });
});
