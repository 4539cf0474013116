/** The skopeo end-to-end suite against stowage on the Elliptics driver, over three emulated nodes. */
import { describeSkopeoE2E } from '../support/skopeo-e2e.js';
import { startStowageOwningDriver } from '../support/stowage.js';
import { startEmulatedDriver } from './context.js';

describeSkopeoE2E('elliptics (3 emulated nodes, groups 1-3)', async () => {
  const { driver } = await startEmulatedDriver();
  return startStowageOwningDriver(driver);
});
