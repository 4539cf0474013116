import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/index.js';
import { useSwiftBehindFaultProxy } from './behind-proxy.js';
import { driverContext, readAll, recordingLogger, s3Driver, swiftDriver, type LoggedLine } from './drivers.js';

const swift = useSwiftBehindFaultProxy();

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const retries = (lines: LoggedLine[]): number => lines.filter((l) => l.msg === 'retrying backend request' || String(l.msg).includes('resuming')).length;

interface Flavour {
  readonly name: 'swift' | 's3';
  readonly chunk: number;
  /** path regex of the request that makes an upload visible */
  readonly commitRequest: { method: string; path: RegExp };
  readonly partRequest: { method: string; path: RegExp };
  create(lines: LoggedLine[], overrides?: Record<string, unknown>): Promise<StorageDriver>;
}

const flavours: Flavour[] = [
  {
    name: 'swift',
    chunk: 1 << 20,
    commitRequest: { method: 'PUT', path: /multipart-manifest=put/ },
    partRequest: { method: 'PUT', path: /\/segments\// },
    create: (lines, overrides = {}) =>
      swiftDriver(swift.endpoint, { authurl: `${swift.proxy.url}/auth/v1.0`, timeout: '1500ms', ...overrides }, driverContext('swift', recordingLogger(lines))),
  },
  {
    name: 's3',
    chunk: 5 << 20,
    commitRequest: { method: 'POST', path: /uploadId=/ },
    partRequest: { method: 'PUT', path: /partNumber=/ },
    create: (lines, overrides = {}) => s3Driver(swift.endpoint, { regionendpoint: swift.proxy.url, timeout: '1500ms', ...overrides }, driverContext('s3', recordingLogger(lines))),
  },
];

describe.each(flavours)('$name driver behind a faulty network', (flavour) => {
  let driver: StorageDriver;
  const lines: LoggedLine[] = [];

  beforeAll(async () => {
    driver = await flavour.create(lines);
  });
  afterAll(async () => {
    await driver?.close?.();
  });

  async function upload(path: string, content: Buffer): Promise<void> {
    const writer = await driver.writer(path, false);
    for (let at = 0; at < content.length; at += 256 * 1024) await writer.write(content.subarray(at, at + 256 * 1024));
    await writer.commit();
    await writer.close();
  }

  it('retries 503s and connections dropped in the middle of an upload, and stores exactly the bytes written', async () => {
    const content = randomBytes(flavour.chunk * 2 + 4321);
    swift.proxy.inject({ ...flavour.partRequest, fault: { kind: 'status', status: 503 }, times: 2 });
    swift.proxy.inject({ ...flavour.partRequest, fault: { kind: 'dropRequest', afterBytes: 300_000 } });
    swift.proxy.inject({ ...flavour.commitRequest, fault: { kind: 'status', status: 503 } });
    const before = retries(lines);
    await upload('/faults/upload', content);
    expect(swift.proxy.injected.length).toBeGreaterThanOrEqual(4);
    expect(retries(lines) - before).toBeGreaterThanOrEqual(4);
    expect(sha(await readAll(await driver.reader('/faults/upload', 0)))).toBe(sha(content));
  });

  it('resends a body damaged on the way, which the backend refuses by its checksum', async () => {
    const content = randomBytes(flavour.chunk + 99);
    swift.proxy.inject({ ...flavour.partRequest, fault: { kind: 'corruptRequest', atByte: 1000 } });
    await upload('/faults/corrupt', content);
    expect(swift.proxy.injected.some((f) => f.endsWith('corruptRequest'))).toBe(true);
    expect(sha(await readAll(await driver.reader('/faults/corrupt', 0)))).toBe(sha(content));
  });

  it('resumes a download whose connection drops mid-body, from the byte it got to', async () => {
    const content = randomBytes(3 << 20);
    await upload('/faults/download', content);
    const before = swift.proxy.injected.length;
    swift.proxy.inject({ method: 'GET', path: /faults\/download/, fault: { kind: 'dropResponse', afterBytes: 1 << 20 }, times: 2 });
    const read = await readAll(await driver.reader('/faults/download', 1000));
    expect(swift.proxy.injected.slice(before).filter((f) => f.endsWith('dropResponse'))).toHaveLength(2);
    expect(sha(read)).toBe(sha(content.subarray(1000)));
  });

  it('gives up on a stalled request after its timeout and retries it', async () => {
    await driver.putContent('/faults/stall', Buffer.from('patience'));
    swift.proxy.inject({ method: 'GET', path: /faults\/stall/, fault: { kind: 'stall', ms: 4000 } });
    const started = Date.now();
    expect(Buffer.from(await driver.getContent('/faults/stall')).toString()).toBe('patience');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('fails with a storage error once retries are exhausted, leaving nothing visible, and a later writer finishes the upload', async () => {
    const content = randomBytes(flavour.chunk + 5000);
    const first = await driver.writer('/faults/exhausted', false);
    await first.write(content);
    await first.close();
    const second = await driver.writer('/faults/exhausted', true);
    swift.proxy.inject({ ...flavour.commitRequest, fault: { kind: 'status', status: 503 }, times: Infinity });
    await expect(second.commit()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    swift.proxy.clear();
    await expect(driver.stat('/faults/exhausted')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await expect(driver.getContent('/faults/exhausted')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });

    const third = await driver.writer('/faults/exhausted', true);
    expect(third.size).toBe(content.length);
    await third.commit();
    await third.close();
    expect(sha(await readAll(await driver.reader('/faults/exhausted', 0)))).toBe(sha(content));
  });

  it('counts a commit whose reply was lost as done', async () => {
    const content = randomBytes(flavour.chunk * 2 + 77);
    const writer = await driver.writer('/faults/lost-reply', false);
    await writer.write(content);
    swift.proxy.inject({ ...flavour.commitRequest, fault: { kind: 'dropResponse', afterBytes: 0 } });
    await writer.commit();
    await writer.close();
    expect(swift.proxy.injected.some((f) => f.endsWith('dropResponse'))).toBe(true);
    expect(sha(await readAll(await driver.reader('/faults/lost-reply', 0)))).toBe(sha(content));
  });

  it('never shows a partial object when an upload is cut off and abandoned', async () => {
    const writer = await driver.writer('/faults/abandoned', false);
    await writer.write(randomBytes(flavour.chunk + 10));
    swift.proxy.inject({ method: 'PUT', fault: { kind: 'status', status: 503 }, times: Infinity });
    await expect(writer.close()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    swift.proxy.clear();
    await expect(driver.stat('/faults/abandoned')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(await driver.list('/faults')).not.toContain('/faults/abandoned');
  });
});
