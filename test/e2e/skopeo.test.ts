import { createDriver as createInMemoryDriver } from '../../plugins/inmemory/src/index.js';
import { createDriverContext, describeSkopeoE2E as publicSkopeoE2E, startStowageOnDriver } from '../../src/testing/index.js';
import { describeSkopeoE2E, startStowageInProcess, startStowageProcess } from '../support/index.js';

describeSkopeoE2E('stowage on the filesystem driver', () => startStowageInProcess());
// exactly what a driver author writes with `stowage/testing`
publicSkopeoE2E('stowage on the inmemory driver, through stowage/testing', async () =>
  startStowageOnDriver(await createInMemoryDriver({}, createDriverContext('inmemory')), { closeDriver: true }),
);
describeSkopeoE2E('stowage served by `stowage serve --config` as its own process', () => startStowageProcess());
