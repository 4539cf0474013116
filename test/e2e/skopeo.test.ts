import { createInMemoryDriver, describeSkopeoE2E, startStowageInProcess, startStowageProcess, startStowageWithDriver } from '../support/index.js';

describeSkopeoE2E('stowage on the filesystem driver', () => startStowageInProcess());
describeSkopeoE2E('stowage on the inmemory driver', async () => startStowageWithDriver(await createInMemoryDriver()));
describeSkopeoE2E('stowage served by `stowage serve --config` as its own process', () => startStowageProcess());
