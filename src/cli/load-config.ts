import { loadConfig } from '../config/index.js';
import type { StowageConfig } from '../config/types.js';

export interface ConfigFlag {
  readonly config?: string;
}

/** The configuration for a command: `--config FILE`, or cosmiconfig's search from the working folder. */
export function configFor(flags: ConfigFlag): Promise<StowageConfig> {
  return loadConfig({ ...(flags.config === undefined ? {} : { configFile: flags.config }), cwd: process.cwd(), env: process.env });
}
