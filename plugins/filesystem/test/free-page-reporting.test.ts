/**
 * `uploadcache: auto` turns the page-cache budget on only on a VM whose virtio balloon reports free pages to
 * the host, read from sysfs as Linux lists the balloon's features (one `0`/`1` per bit, bit 5 the reporting).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { balloonReportsFreePages } from '../src/free-page-reporting.js';
import { AUTO_UPLOAD_CACHE, uploadCacheBytes } from '../src/index.js';

let devices: string;
beforeEach(() => {
  devices = mkdtempSync(join(tmpdir(), 'stowage-balloon-'));
});
afterEach(() => rmSync(devices, { recursive: true, force: true }));

const device = (name: string, features: string): void => {
  mkdirSync(join(devices, name));
  writeFileSync(join(devices, name, 'features'), `${features}\n`);
};

describe('free page reporting', () => {
  it('is on when a balloon device has feature bit 5 (as a Firecracker balloon with reporting lists it)', () => {
    device('virtio0', '0110010100000000000000000000000010000000');
    expect(balloonReportsFreePages(devices)).toBe(true);
  });

  it('is off for a balloon without bit 5, for no balloon device, and where the driver is not loaded', () => {
    device('virtio0', '0110000100000000000000000000000010000000');
    expect(balloonReportsFreePages(devices)).toBe(false);
    rmSync(join(devices, 'virtio0'), { recursive: true });
    writeFileSync(join(devices, 'uevent'), 'DRIVER=virtio_balloon\n');
    expect(balloonReportsFreePages(devices)).toBe(false);
    expect(balloonReportsFreePages(join(devices, 'absent'))).toBe(false);
  });

  it('is on when any of several balloon devices reports', () => {
    device('virtio0', '0100000000');
    device('virtio3', '0000010000');
    expect(balloonReportsFreePages(devices)).toBe(true);
  });
});

describe('uploadcache', () => {
  it('auto keeps a budget only where free pages are reported; bytes and unlimited are taken as they are', () => {
    expect(uploadCacheBytes('auto', () => true)).toBe(AUTO_UPLOAD_CACHE);
    expect(uploadCacheBytes('auto', () => false)).toBeUndefined();
    expect(uploadCacheBytes('unlimited', () => true)).toBeUndefined();
    expect(uploadCacheBytes(0, () => false)).toBe(0);
    expect(uploadCacheBytes(3 * 1024 * 1024, () => true)).toBe(3 * 1024 * 1024);
  });
});
