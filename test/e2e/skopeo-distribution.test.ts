import { describeSkopeoE2E, startDistribution } from '../support/index.js';

// The reference: the same e2e against CNCF distribution 2.8 shows the suite's expectations are a registry's, not stowage's.
describeSkopeoE2E('distribution 2.8 (reference)', () => startDistribution());
