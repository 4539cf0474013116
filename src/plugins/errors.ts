/**
 * Plugin errors: each kind has its own code so the CLI (and an operator's tooling) can tell "not installed"
 * from "installed but broken" from "configured wrongly".
 */
import type { ConfigIssue } from '../config/types.js';

export type PluginErrorCode =
  | 'PLUGIN_NOT_FOUND'
  | 'PLUGIN_INVALID'
  | 'PLUGIN_API_MISMATCH'
  | 'PLUGIN_OPTIONS_INVALID'
  | 'PLUGIN_DEPENDENCY_MISSING';

export class PluginError extends Error {
  constructor(
    readonly code: PluginErrorCode,
    message: string,
    readonly details: {
      readonly plugin: string;
      readonly location?: string;
      /** PLUGIN_NOT_FOUND: every place looked in, in order */
      readonly searched?: readonly string[];
      /** PLUGIN_OPTIONS_INVALID: one entry per problem, each with its place in the config */
      readonly issues?: readonly ConfigIssue[];
      /** PLUGIN_DEPENDENCY_MISSING: the module that could not be found */
      readonly missing?: string;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PluginError';
  }
}

export function isPluginError(err: unknown): err is PluginError {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof PluginError || (typeof code === 'string' && code.startsWith('PLUGIN_'));
}
