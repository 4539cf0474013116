import { loadConfig } from '../config/index.js';
import type { StowageConfig } from '../config/types.js';
import { processRedactor } from '../logger.js';

export interface ConfigFlag {
  readonly config?: string;
}

/** The configuration for a command: `--config FILE`, or cosmiconfig's search from the working folder. */
export async function configFor(flags: ConfigFlag): Promise<StowageConfig> {
  const config = await loadConfig({ ...(flags.config === undefined ? {} : { configFile: flags.config }), cwd: process.cwd(), env: process.env });
  // known from here on, so that no later failure or log line can print it
  if (config.http.secret) processRedactor.add([config.http.secret]);
  return config;
}
