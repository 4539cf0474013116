/** The OCI distribution-spec conformance suite (v1.1.1 port) against stowage on the Elliptics driver. */
import { describeConformance } from '../conformance/describe-conformance.js';
import { startStowageOwningDriver } from '../support/stowage.js';
import { startEmulatedDriver } from './context.js';

describeConformance('stowage on the elliptics driver (3 emulated nodes, groups 1-3)', async () => {
  const { driver } = await startEmulatedDriver();
  return startStowageOwningDriver(driver);
});
