/**
 * health.storagedriver against the real Swift all-in-one. That Swift is shared with the other swift test
 * files (they hold leases on it), so this file does not stop it: stowage reaches Swift only through a proxy
 * of its own, and "Swift stops" is that proxy closing its listening socket and every connection (stowage
 * gets connection refused, as from a host that is down); "Swift comes back" is the proxy listening again on
 * the same port. stowage runs as `stowage serve` does (startStowage), with the debug server on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startConfigured, tempFolder, type ConfiguredStowage } from '../ops/support.js';
import { useSwiftBehindFaultProxy } from './behind-proxy.js';
import { uniqueName } from './drivers.js';

const swift = useSwiftBehindFaultProxy();

describe('readiness follows the Swift backend', () => {
  let work: Awaited<ReturnType<typeof tempFolder>>;
  let stowage: ConfiguredStowage;
  const status = async (url: string): Promise<number> => {
    const answer = await fetch(url);
    await answer.arrayBuffer();
    return answer.status;
  };
  const retries = async (): Promise<number> => {
    const text = await (await fetch(`${stowage.debugURL}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('stowage_storage_retries_total{driver="swift"}'));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  beforeAll(async () => {
    work = await tempFolder('health');
    stowage = await startConfigured(
      work.dir,
      [
        'log: { level: fatal }',
        'http:',
        '  addr: 127.0.0.1:0',
        '  debug: { addr: "127.0.0.1:0", prometheus: { enabled: true } }',
        'health:',
        '  storagedriver: { enabled: true, interval: 100ms, threshold: 2 }',
        'storage:',
        '  swift:',
        `    authurl: ${swift.proxy.url}/auth/v1.0`,
        `    username: "${swift.endpoint.user}"`,
        `    password: "${swift.endpoint.key}"`,
        `    container: ${uniqueName('health')}`,
        '    maxretries: 1',
        '    retrydelay: 10ms',
        '    timeout: 2s',
        '    connecttimeout: 1s',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await stowage?.close();
    await work?.remove();
  });

  it('is ready with Swift up, answers 503 on /v2/, /readyz and /debug/health while Swift is unreachable (/livez stays 200), and is ready again once Swift is back', async () => {
    expect(await status(`${stowage.url}/readyz`)).toBe(200);
    expect(await status(`${stowage.url}/v2/`)).toBe(200);
    expect(await (await fetch(`${stowage.debugURL}/debug/health`)).json()).toEqual({});
    const retriesBefore = await retries();

    await swift.proxy.unreachable();
    try {
      await eventually('/readyz to answer 503', async () => (await status(`${stowage.url}/readyz`)) === 503);
      const base = await fetch(`${stowage.url}/v2/`);
      expect(base.status).toBe(503);
      expect(await base.json()).toEqual({ errors: [{ code: 'UNAVAILABLE', message: expect.any(String) }] });
      expect(await status(`${stowage.debugURL}/readyz`)).toBe(503);
      expect(await status(`${stowage.url}/livez`)).toBe(200);
      const health = await fetch(`${stowage.debugURL}/debug/health`);
      expect(health.status).toBe(503);
      expect(Object.keys((await health.json()) as object)).toEqual(['storagedriver_swift']);
      // the driver retried the failed checks, and the retry metric counted them
      expect(await retries()).toBeGreaterThan(retriesBefore);
    } finally {
      await swift.proxy.reachable();
    }

    await eventually('/readyz to answer 200 again', async () => (await status(`${stowage.url}/readyz`)) === 200);
    expect(await status(`${stowage.url}/v2/`)).toBe(200);
    expect(await (await fetch(`${stowage.debugURL}/debug/health`)).json()).toEqual({});
  });
});
