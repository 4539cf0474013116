/**
 * Whether this machine is a VM whose memory balloon hands free memory back to the host (virtio-balloon free
 * page reporting): there the first touch of a page the host took back faults on the host, so a page cache
 * that grows into free memory costs several times the kernel time of one that reuses its pages
 * (docs/bench.md, "Large uploads, seventh pass"), which is what `uploadcache: auto` turns the budget on for.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** where Linux lists the devices the virtio_balloon driver bound */
export const BALLOON_DEVICES = '/sys/bus/virtio/drivers/virtio_balloon';

/** VIRTIO_BALLOON_F_REPORTING (virtio spec 5.5.3): the device takes free page hints */
const FREE_PAGE_REPORTING_BIT = 5;

/** `devices`: the driver's sysfs folder; each device's `features` is one `0`/`1` character per feature bit */
export function balloonReportsFreePages(devices = BALLOON_DEVICES): boolean {
  let entries: string[];
  try {
    entries = readdirSync(devices);
  } catch {
    return false;
  }
  return entries.some((entry) => {
    try {
      return readFileSync(join(devices, entry, 'features'), 'utf8')[FREE_PAGE_REPORTING_BIT] === '1';
    } catch {
      return false;
    }
  });
}
