import { describeResumableUpload, startStowageProcess } from '../support/index.js';

describeResumableUpload('stowage as its own process on the filesystem driver', (options) => startStowageProcess(options));
