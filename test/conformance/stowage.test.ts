import { createInMemoryDriver, startStowageInProcess, startStowageProcess, startStowageWithDriver } from '../support/index.js';
import { describeConformance } from './describe-conformance.js';

describeConformance('stowage on the filesystem driver', () => startStowageInProcess());
describeConformance('stowage on the inmemory driver', async () => startStowageWithDriver(await createInMemoryDriver()));
describeConformance('stowage served by `stowage serve --config` as its own process', () => startStowageProcess());
