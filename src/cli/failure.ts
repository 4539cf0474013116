/** How a command reports a failure: one actionable message on stderr, and exit code 1. */
import { isConfigError } from '../config/index.js';
import { processRedactor } from '../logger.js';
import { isPluginError } from '../plugins/index.js';

export class CliFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliFailure';
  }
}

/** The text shown for an error; config and plugin errors already name the file, the path and what was expected. */
export function describeFailure(err: unknown): string {
  if (isConfigError(err) || isPluginError(err) || err instanceof CliFailure) return (err as Error).message;
  if (err instanceof Error) return `${err.message}${process.env['STOWAGE_DEBUG'] ? `\n${err.stack ?? ''}` : ''}`;
  return String(err);
}

export function reportFailure(err: unknown): void {
  const code = (err as { code?: unknown } | null)?.code;
  const tag = typeof code === 'string' && /^(PLUGIN_|CONFIG_)/.test(code) ? `[${code}] ` : '';
  process.stderr.write(processRedactor.scrub(`stowage: ${tag}${describeFailure(err)}\n`));
  process.exitCode = 1;
}
