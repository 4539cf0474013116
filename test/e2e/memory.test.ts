import { describeStreamingMemory, startStowageProcess } from '../support/index.js';

describeStreamingMemory('stowage as its own process on the filesystem driver', () => startStowageProcess());
